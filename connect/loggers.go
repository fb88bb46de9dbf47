package connect

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// Loggers holds the log levels set through /admin/loggers, with log4j's
// hierarchy: a logger without a level of its own takes its nearest set
// ancestor's (a.b.C inherits from a.b, then a), and every logger inherits
// from "root". The root level drives the worker's slog.LevelVar. Runnel's
// components log through Handler under the names of the Kafka Connect
// classes doing the same work (the LoggerAttr attribute), so a namespace
// such as org.apache.kafka.connect.runtime.WorkerSinkTask or
// org.apache.kafka.connect can be turned up or down on its own.
type Loggers struct {
	mu     sync.Mutex
	root   *slog.LevelVar
	levels map[string]LoggerLevel // explicitly set, by namespace
	now    func() time.Time
}

// RootLogger is the name of the logger every other one inherits from.
const RootLogger = "root"

// LoggerAttr is the slog attribute naming the logger a record belongs to;
// give it to slog.Logger.With. Records without it belong to RootLogger.
const LoggerAttr = "logger"

// The loggers of the worker's components, named after the Kafka Connect
// classes with the same role.
const (
	LoggerWorker            = "org.apache.kafka.connect.runtime.Worker"
	LoggerWorkerSourceTask  = "org.apache.kafka.connect.runtime.WorkerSourceTask"
	LoggerWorkerSinkTask    = "org.apache.kafka.connect.runtime.WorkerSinkTask"
	LoggerStandaloneHerder  = "org.apache.kafka.connect.runtime.standalone.StandaloneHerder"
	LoggerDistributedHerder = "org.apache.kafka.connect.runtime.distributed.DistributedHerder"
	LoggerRestServer        = "org.apache.kafka.connect.runtime.rest.RestServer"
)

// NewLoggers returns Loggers whose root level is root (nil = a LevelVar of
// its own at INFO).
func NewLoggers(root *slog.LevelVar) *Loggers {
	if root == nil {
		root = new(slog.LevelVar)
	}
	l := &Loggers{root: root, levels: make(map[string]LoggerLevel), now: time.Now}
	l.levels[RootLogger] = LoggerLevel{Level: log4jLevel(root.Level())}
	return l
}

// All returns every explicitly set logger and its level (GET /admin/loggers).
func (l *Loggers) All() map[string]LoggerLevel {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := maps.Clone(l.levels)
	out[RootLogger] = LoggerLevel{Level: log4jLevel(l.root.Level()), LastModified: l.levels[RootLogger].LastModified}
	return out
}

// Level returns the level of a logger: its own if set, else its nearest
// set ancestor's (a.b inherits from a), else root's.
func (l *Loggers) Level(name string) LoggerLevel {
	l.mu.Lock()
	defer l.mu.Unlock()
	if name == RootLogger {
		return LoggerLevel{Level: log4jLevel(l.root.Level()), LastModified: l.levels[RootLogger].LastModified}
	}
	if lv, ok := l.nearestLocked(name); ok {
		return lv
	}
	return LoggerLevel{Level: log4jLevel(l.root.Level())}
}

// nearestLocked returns the level set on name or on its nearest ancestor
// namespace, if any. l.mu is held.
func (l *Loggers) nearestLocked(name string) (LoggerLevel, bool) {
	for n := name; n != ""; {
		if lv, ok := l.levels[n]; ok {
			return lv, true
		}
		i := strings.LastIndexByte(n, '.')
		if i < 0 {
			break
		}
		n = n[:i]
	}
	return LoggerLevel{}, false
}

// Set sets the level of namespace and of every set logger below it and
// returns their names, sorted (PUT /admin/loggers/{namespace}). level is a
// log4j level (TRACE, DEBUG, INFO, WARN, ERROR, FATAL, OFF; any case); an
// unknown level is an ErrNotFound, as Kafka answers it.
func (l *Loggers) Set(namespace, level string) ([]string, error) {
	lvl, ok := parseLog4jLevel(level)
	if !ok {
		return nil, notFoundf("invalid log level '%s'.", level)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	ms := l.now().UnixMilli()
	set := LoggerLevel{Level: strings.ToUpper(level), LastModified: &ms}
	var affected []string
	if namespace == RootLogger {
		l.root.Set(lvl)
		for n := range l.levels {
			l.levels[n] = set
			affected = append(affected, n)
		}
	} else {
		l.levels[namespace] = set
		affected = append(affected, namespace)
		for n := range l.levels {
			if strings.HasPrefix(n, namespace+".") {
				l.levels[n] = set
				affected = append(affected, n)
			}
		}
	}
	slices.Sort(affected)
	return affected, nil
}

// enabled reports whether a record at lvl from logger name is logged: lvl
// reaches the logger's effective level.
func (l *Loggers) enabled(name string, lvl slog.Level) bool {
	if name != "" && name != RootLogger {
		l.mu.Lock()
		set, ok := l.nearestLocked(name)
		l.mu.Unlock()
		if ok {
			want, _ := parseLog4jLevel(set.Level)
			return lvl >= want
		}
	}
	return lvl >= l.root.Level()
}

// Handler returns a handler that passes inner the records whose level
// reaches the effective level of their logger (the LoggerAttr attribute
// given to With, root when none). It decides alone: inner's own level is
// not consulted, so a namespace set below root's level is still logged.
func (l *Loggers) Handler(inner slog.Handler) slog.Handler {
	return &levelHandler{loggers: l, inner: inner}
}

// levelHandler is the handler Loggers.Handler returns.
type levelHandler struct {
	loggers *Loggers
	inner   slog.Handler
	name    string // the logger, from the LoggerAttr attribute
}

func (h *levelHandler) Enabled(_ context.Context, lvl slog.Level) bool {
	return h.loggers.enabled(h.name, lvl)
}

func (h *levelHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.inner.Handle(ctx, r)
}

func (h *levelHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	for _, a := range attrs {
		if a.Key == LoggerAttr {
			c.name = a.Value.String()
		}
	}
	c.inner = h.inner.WithAttrs(attrs)
	return &c
}

func (h *levelHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.inner = h.inner.WithGroup(name)
	return &c
}

// parseLog4jLevel maps a log4j level name to the nearest slog level.
func parseLog4jLevel(s string) (slog.Level, bool) {
	switch strings.ToUpper(s) {
	case "TRACE":
		return slog.LevelDebug - 4, true
	case "DEBUG":
		return slog.LevelDebug, true
	case "INFO":
		return slog.LevelInfo, true
	case "WARN":
		return slog.LevelWarn, true
	case "ERROR":
		return slog.LevelError, true
	case "FATAL":
		return slog.LevelError + 4, true
	case "OFF":
		return slog.LevelError + 8, true
	}
	return 0, false
}

// log4jLevel names a slog level with log4j's words.
func log4jLevel(l slog.Level) string {
	switch {
	case l < slog.LevelDebug:
		return "TRACE"
	case l < slog.LevelInfo:
		return "DEBUG"
	case l < slog.LevelWarn:
		return "INFO"
	case l < slog.LevelError:
		return "WARN"
	case l < slog.LevelError+4:
		return "ERROR"
	case l < slog.LevelError+8:
		return "FATAL"
	}
	return "OFF"
}
