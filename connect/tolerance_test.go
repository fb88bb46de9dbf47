package connect

import (
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/runnel/runnel/connect/connector"
)

func TestTolerance(t *testing.T) {
	retriable := fmt.Errorf("broker busy: %w", connector.ErrRetriable)
	fatal := errors.New("bad value")
	tests := []struct {
		name        string
		cfg         ConnectorConfig
		errs        []error // what fn returns on each call, then nil
		wantCalls   int
		wantOK      bool
		wantErr     bool
		wantReports int
		wantElapsed time.Duration
	}{
		{name: "success", wantCalls: 1, wantOK: true},
		{name: "no retries by default", cfg: ConnectorConfig{}, errs: []error{retriable}, wantCalls: 1, wantErr: true, wantReports: 1},
		{name: "retried until success", cfg: ConnectorConfig{ErrorsRetryTimeout: time.Minute, ErrorsRetryMaxDelay: time.Minute},
			errs: []error{retriable, retriable, retriable}, wantCalls: 4, wantOK: true, wantElapsed: 300*time.Millisecond + 600*time.Millisecond + 1200*time.Millisecond},
		{name: "backoff capped by errors.retry.delay.max.ms", cfg: ConnectorConfig{ErrorsRetryTimeout: time.Minute, ErrorsRetryMaxDelay: 500 * time.Millisecond},
			errs: []error{retriable, retriable, retriable}, wantCalls: 4, wantOK: true, wantElapsed: 300*time.Millisecond + 500*time.Millisecond + 500*time.Millisecond},
		{name: "retry timeout exceeded", cfg: ConnectorConfig{ErrorsRetryTimeout: time.Second, ErrorsRetryMaxDelay: time.Minute},
			errs: []error{retriable, retriable, retriable, retriable}, wantCalls: 3, wantErr: true, wantReports: 1, wantElapsed: 900 * time.Millisecond},
		{name: "non-retriable not retried", cfg: ConnectorConfig{ErrorsRetryTimeout: time.Minute}, errs: []error{fatal}, wantCalls: 1, wantErr: true, wantReports: 1},
		{name: "tolerated", cfg: ConnectorConfig{ErrorsToleranceAll: true, ErrorsLogEnable: true}, errs: []error{fatal}, wantCalls: 1, wantOK: false, wantReports: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				op := &tolerance{cfg: tt.cfg, id: TaskID{Connector: "c", Task: 0}, log: slog.New(slog.DiscardHandler), sleep: sleepCtx}
				calls, reports := 0, 0
				start := time.Now()
				ok, err := op.do(t.Context(), StageValueConverter, "x.Converter", func() error {
					calls++
					if calls <= len(tt.errs) {
						return tt.errs[calls-1]
					}
					return nil
				}, func(stage, class string, err error) {
					reports++
					if stage != StageValueConverter || class != "x.Converter" {
						t.Errorf("report(%s, %s)", stage, class)
					}
				})
				if calls != tt.wantCalls || ok != tt.wantOK || (err != nil) != tt.wantErr || reports != tt.wantReports {
					t.Errorf("calls %d ok %v err %v reports %d; want %d %v %v %d", calls, ok, err, reports, tt.wantCalls, tt.wantOK, tt.wantErr, tt.wantReports)
				}
				if err != nil && !errors.Is(err, errToleranceExceeded) {
					t.Errorf("err %v does not say the tolerance was exceeded", err)
				}
				if elapsed := time.Since(start); elapsed != tt.wantElapsed {
					t.Errorf("waited %v, want %v", elapsed, tt.wantElapsed)
				}
			})
		})
	}
}

func TestLoggers(t *testing.T) {
	var root slog.LevelVar
	l := NewLoggers(&root)
	l.now = func() time.Time { return time.UnixMilli(1700000000000) }
	if got := l.Level("org.apache.kafka.connect"); got.Level != "INFO" || got.LastModified != nil {
		t.Errorf("inherited level = %+v", got)
	}
	affected, err := l.Set("org.apache.kafka.connect", "debug")
	if err != nil || len(affected) != 1 || affected[0] != "org.apache.kafka.connect" {
		t.Fatalf("Set = %v, %v", affected, err)
	}
	if got := l.Level("org.apache.kafka.connect.runtime.Worker"); got.Level != "DEBUG" || *got.LastModified != 1700000000000 {
		t.Errorf("child level = %+v", got)
	}
	if _, err := l.Set("root", "LOUD"); !errors.Is(err, ErrNotFound) {
		t.Errorf("bad level: %v", err)
	}
	affected, _ = l.Set("root", "WARN")
	if len(affected) != 2 || root.Level() != slog.LevelWarn {
		t.Errorf("root set affected %v, level %v", affected, root.Level())
	}
	if all := l.All(); len(all) != 2 || all["root"].Level != "WARN" {
		t.Errorf("All = %v", all)
	}
}
