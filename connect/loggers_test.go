package connect

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestLoggersHandler checks that the levels set through Loggers decide
// what each named logger writes, with log4j's inheritance, whatever the
// level of the handler underneath.
func TestLoggersHandler(t *testing.T) {
	root := new(slog.LevelVar) // INFO
	l := NewLoggers(root)
	var buf bytes.Buffer
	// The inner handler's own level (ERROR) is not consulted.
	base := slog.New(l.Handler(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelError})))
	sink := base.With(LoggerAttr, LoggerWorkerSinkTask)
	src := base.With(LoggerAttr, LoggerWorkerSourceTask)
	logged := func(msg string) bool {
		return strings.Contains(buf.String(), "msg="+msg+" ") || strings.Contains(buf.String(), "msg="+msg+"\n")
	}

	steps := []struct {
		set, level string // a Set before logging, if any
		log        func()
		msg        string
		want       bool
	}{
		{log: func() { base.Info("root-info") }, msg: "root-info", want: true},
		{log: func() { base.Debug("root-debug") }, msg: "root-debug", want: false},
		{log: func() { sink.Debug("sink-debug-1") }, msg: "sink-debug-1", want: false},
		{set: LoggerWorkerSinkTask, level: "debug", log: func() { sink.Debug("sink-debug-2") }, msg: "sink-debug-2", want: true},
		{log: func() { src.Debug("src-debug") }, msg: "src-debug", want: false},
		{log: func() { base.Debug("root-debug-2") }, msg: "root-debug-2", want: false},
		// A child of a set logger inherits its level.
		{log: func() { sink.With(LoggerAttr, LoggerWorkerSinkTask+".Inner").Debug("child-debug") }, msg: "child-debug", want: true},
		// Setting a namespace sets the loggers set below it too.
		{set: "org.apache.kafka.connect", level: "WARN", log: func() { sink.Info("sink-info") }, msg: "sink-info", want: false},
		{log: func() { src.Info("src-info") }, msg: "src-info", want: false},
		{log: func() { src.Warn("src-warn") }, msg: "src-warn", want: true},
		{log: func() { base.Info("root-info-2") }, msg: "root-info-2", want: true},
		// Root changes every set logger and the LevelVar.
		{set: RootLogger, level: "ERROR", log: func() { sink.Warn("sink-warn") }, msg: "sink-warn", want: false},
		{log: func() { base.Warn("root-warn") }, msg: "root-warn", want: false},
		{log: func() { src.Error("src-error") }, msg: "src-error", want: true},
		{set: RootLogger, level: "TRACE", log: func() { src.Log(t.Context(), slog.LevelDebug-4, "src-trace") }, msg: "src-trace", want: true},
	}
	for i, s := range steps {
		if s.set != "" {
			if _, err := l.Set(s.set, s.level); err != nil {
				t.Fatalf("step %d: Set(%s, %s): %v", i, s.set, s.level, err)
			}
		}
		s.log()
		if got := logged(s.msg); got != s.want {
			t.Errorf("step %d: %s logged = %v, want %v (levels %v)", i, s.msg, got, s.want, l.All())
		}
	}
	if root.Level() != slog.LevelDebug-4 {
		t.Errorf("root LevelVar = %v after PUT root TRACE", root.Level())
	}
	if !strings.Contains(buf.String(), "logger="+LoggerWorkerSinkTask) {
		t.Errorf("records do not name their logger:\n%s", buf.String())
	}
}
