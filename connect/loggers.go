package connect

import (
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// Loggers holds the log levels set through /admin/loggers. Runnel logs with
// log/slog, which has no logger hierarchy: the "root" logger's level drives
// the worker's slog.LevelVar, and the levels of other namespaces are kept
// and reported (inherited by their children, as in log4j) so that tools
// written for Kafka's endpoint see the answers they expect.
type Loggers struct {
	mu     sync.Mutex
	root   *slog.LevelVar
	levels map[string]LoggerLevel // explicitly set, by namespace
	now    func() time.Time
}

// RootLogger is the name of the logger every other one inherits from.
const RootLogger = "root"

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
	for n := name; n != ""; {
		if lv, ok := l.levels[n]; ok {
			return lv
		}
		i := strings.LastIndexByte(n, '.')
		if i < 0 {
			break
		}
		n = n[:i]
	}
	return LoggerLevel{Level: log4jLevel(l.root.Level())}
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
