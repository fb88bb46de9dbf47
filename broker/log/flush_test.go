package log

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestGroupCommit holds the first fsync until three more appenders are
// waiting, then checks that those three share one fsync.
func TestGroupCommit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ffs := newFaultFS()
		l := mustOpen(t, t.TempDir(), Config{FS: ffs, FlushMessages: 1}, OpenOptions{})
		gate := make(chan struct{})
		ffs.mu.Lock()
		ffs.syncGate = gate
		ffs.mu.Unlock()
		_, _, before := ffs.counts()

		var wg sync.WaitGroup
		wg.Go(func() { mustAppend(t, l, batch(t, 1, 10, 0)) })
		synctest.Wait() // the first appender is inside its fsync
		for range 3 {
			wg.Go(func() { mustAppend(t, l, batch(t, 1, 10, 0)) })
		}
		synctest.Wait() // the others wrote their batches and wait for a flush
		if got := l.LogEndOffset(); got != 4 {
			t.Fatalf("LogEndOffset = %d while the fsync is held, want 4: appenders must not wait for it to write", got)
		}
		close(gate)
		wg.Wait()
		_, _, after := ffs.counts()
		if n := after - before; n != 2 {
			t.Fatalf("%d fsyncs of the segment for 4 appends, want 2 (the first, then one shared by the other three)", n)
		}
		if l.RecoveryPoint() != 4 {
			t.Fatalf("RecoveryPoint = %d, want 4", l.RecoveryPoint())
		}
		ffs.mu.Lock()
		ffs.syncGate = nil
		ffs.mu.Unlock()
		l.Close()
	})
}

func TestFlushIfDue(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		// after each step (append, wait, FlushIfDue), whether everything
		// is flushed (by the append itself or by FlushIfDue)
		steps []struct {
			wait  time.Duration
			flush bool
		}
	}{
		{
			name: "flush.ms",
			cfg:  Config{FlushMs: 1000},
			steps: []struct {
				wait  time.Duration
				flush bool
			}{{0, false}, {999 * time.Millisecond, false}, {time.Millisecond, true}, {5 * time.Second, true}},
		},
		{
			name: "flush.messages",
			cfg:  Config{FlushMessages: 3},
			steps: []struct {
				wait  time.Duration
				flush bool
			}{{0, false}, {0, true}, {0, false}, {0, true}},
		},
		{
			name: "never by default",
			cfg:  Config{},
			steps: []struct {
				wait  time.Duration
				flush bool
			}{{0, false}, {24 * time.Hour, false}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := mustOpen(t, t.TempDir(), tt.cfg, OpenOptions{})
				defer l.Close()
				for i, st := range tt.steps {
					mustAppend(t, l, batch(t, 2, 1, 0))
					time.Sleep(st.wait)
					if err := l.FlushIfDue(time.Now()); err != nil {
						t.Fatal(err)
					}
					flushed := l.RecoveryPoint() == l.LogEndOffset()
					if flushed != st.flush {
						t.Fatalf("step %d: flushed = %v, want %v (recovery point %d, end %d)", i, flushed, st.flush, l.RecoveryPoint(), l.LogEndOffset())
					}
				}
			})
		})
	}
}

func TestFlushAdvancesRecoveryPoint(t *testing.T) {
	l := mustOpen(t, t.TempDir(), Config{SegmentBytes: 500}, OpenOptions{})
	defer l.Close()
	for range 10 {
		mustAppend(t, l, batch(t, 3, 20, 0))
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if l.RecoveryPoint() != 30 {
		t.Fatalf("RecoveryPoint = %d, want 30", l.RecoveryPoint())
	}
}
