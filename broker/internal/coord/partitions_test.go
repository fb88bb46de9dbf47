package coord

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/runnel/runnel/broker/record"
)

var (
	errNotCoord = errors.New("test: not coordinator")
	errLoading  = errors.New("test: loading")
	errNotAvail = errors.New("test: not available")
	testErrors  = Errors{NotCoordinator: errNotCoord, LoadInProgress: errLoading, NotAvailable: errNotAvail}
)

func TestPartitionFor(t *testing.T) {
	// Java's String.hashCode, then Kafka's Utils.abs modulo 50.
	tests := []struct {
		key  string
		hash int32
		want int32
	}{
		{"", 0, 0},
		{"a", 97, 97 % 50},
		{"my-group", -1906497762, 1906497762 % 50},
		{"txn-1", 110810510, 10},
		{"polygenelubricants", -1 << 31, 0},   // Kafka's abs makes the smallest int32 0
		{"\U0001F600", 1772899, 1772899 % 50}, // a surrogate pair in UTF-16
		{"tx-\U0001F600", 112519500, 112519500 % 50},
	}
	for _, tt := range tests {
		if h := javaStringHash(tt.key); h != tt.hash {
			t.Errorf("hashCode(%q) = %d, want %d", tt.key, h, tt.hash)
		}
		if got := PartitionFor(tt.key, 50); got != tt.want {
			t.Errorf("PartitionFor(%q, 50) = %d, want %d", tt.key, got, tt.want)
		}
	}
	if got := PartitionFor("a", 0); got != 0 {
		t.Errorf("PartitionFor with no partitions = %d", got)
	}
}

// memLog is a Log whose appends record their batches, or wait for ctx
// when block is set.
type memLog struct {
	mu      sync.Mutex
	batches []string
	block   bool
	gate    chan struct{} // holds reads until closed
}

func (l *memLog) Append(ctx context.Context, batch []byte) error {
	if l.block {
		<-ctx.Done()
		return ctx.Err()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.batches = append(l.batches, string(batch))
	return nil
}

func (l *memLog) StartOffset() int64 { return 0 }

func (l *memLog) Read(int64, int) ([]byte, error) {
	if l.gate != nil {
		<-l.gate
	}
	return nil, nil
}

func (l *memLog) appended() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.batches)
}

// testShard is a minimal state machine: it appends what it is asked to
// and fires named deadlines.
type testShard struct {
	now    time.Time
	timers Timers[string]
	outbox []Write
	tasks  []func(context.Context) func()
	log    Log
	fired  []string
	events []string
}

func (s *testShard) write(data string, done func(error)) {
	s.outbox = append(s.outbox, Write{
		Append: func(ctx context.Context) error { return s.log.Append(ctx, []byte(data)) },
		Done: func(err error) {
			s.events = append(s.events, "done "+data)
			done(err)
		},
	})
}

func (s *testShard) Step(now time.Time, fn func()) Effects {
	s.now = now
	if fn != nil {
		fn()
	}
	for {
		k, ok := s.timers.Pop(now)
		if !ok {
			break
		}
		s.fired = append(s.fired, k)
	}
	e := Effects{Writes: s.outbox, Tasks: s.tasks}
	s.outbox, s.tasks = nil, nil
	e.Next, _ = s.timers.Next()
	return e
}

// start returns a registry of testShards, each served until unloaded.
func start(t *testing.T) *Partitions[*testShard] {
	var r *Partitions[*testShard]
	r = NewPartitions(Config[*testShard]{
		Topic: "__test", Name: "test coordinator", Errors: testErrors,
		Run: func(p *Partition[*testShard]) {
			sh := &testShard{log: p.Log}
			if err := Replay(p, 1<<10, func(record.Batch) error { return nil }); err != nil {
				return
			}
			p.SetLoaded()
			Serve(p, sh, sh)
		},
	})
	t.Cleanup(r.Close)
	return r
}

func TestRouteAndCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := start(t)
		if _, err := r.Route("g"); !errors.Is(err, errNotCoord) {
			t.Fatalf("Route with no partitions: %v", err)
		}
		r.SetCount(1)
		if _, err := r.Route("g"); !errors.Is(err, errNotCoord) {
			t.Fatalf("Route to a partition not loaded: %v", err)
		}
		l := &memLog{}
		r.Load(0, 3, l)
		synctest.Wait()
		p, err := r.Route("g")
		if err != nil || p.Index != 0 || p.Epoch != 3 || !p.Loaded() {
			t.Fatalf("Route: %v %v", p, err)
		}
		for _, data := range []string{"a", "b", "c"} {
			got, err := Call(t.Context(), p, func(s *testShard, done func(error)) { s.write(data, done) })
			if err != nil || got != nil {
				t.Fatalf("write %s: %v %v", data, got, err)
			}
		}
		if got := l.appended(); !slices.Equal(got, []string{"a", "b", "c"}) {
			t.Fatalf("appended %q, want a, b, c in order", got)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := Call(ctx, p, func(s *testShard, done func(int)) {}); !errors.Is(err, errNotAvail) || !errors.Is(err, context.Canceled) {
			t.Fatalf("Call with an ended context: %v", err)
		}
		r.Unload(0)
		if _, err := r.Route("g"); !errors.Is(err, errNotCoord) {
			t.Fatalf("Route after Unload: %v", err)
		}
		if _, err := Call(t.Context(), p, func(s *testShard, done func(int)) { done(1) }); !errors.Is(err, errNotCoord) {
			t.Fatalf("Call on an unloaded partition: %v", err)
		}
	})
}

// TestServeUnload unloads a partition with one append waiting for
// replication and two queued behind it: the first gets its append's error,
// the others ErrNotCoordinator, and every caller is answered.
func TestServeUnload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := start(t)
		r.SetCount(1)
		r.Load(0, 0, &memLog{block: true})
		synctest.Wait()
		p, err := r.Route("g")
		if err != nil {
			t.Fatal(err)
		}
		errs := make([]error, 3)
		var wg sync.WaitGroup
		for i, data := range []string{"a", "b", "c"} {
			wg.Go(func() {
				var err error
				errs[i], err = Call(t.Context(), p, func(s *testShard, done func(error)) { s.write(data, done) })
				if err != nil {
					errs[i] = err
				}
			})
			synctest.Wait()
		}
		r.Unload(0)
		wg.Wait()
		if !errors.Is(errs[0], context.Canceled) {
			t.Errorf("append in flight: %v, want its context's end", errs[0])
		}
		for i := 1; i < 3; i++ {
			if !errors.Is(errs[i], errNotCoord) {
				t.Errorf("queued append %d: %v, want %v", i, errs[i], errNotCoord)
			}
		}
	})
}

func TestServeDeadlinesAndTasks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := start(t)
		r.SetCount(1)
		r.Load(0, 0, &memLog{})
		synctest.Wait()
		p, _ := r.Route("g")
		_, err := Call(t.Context(), p, func(s *testShard, done func(struct{})) {
			s.timers.Set("late", s.now.Add(2*time.Second))
			s.timers.Set("early", s.now.Add(time.Second))
			done(struct{}{})
		})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(1500 * time.Millisecond)
		synctest.Wait()
		fired, _ := Call(t.Context(), p, func(s *testShard, done func([]string)) { done(slices.Clone(s.fired)) })
		if !slices.Equal(fired, []string{"early"}) {
			t.Fatalf("after 1.5s fired %q, want early", fired)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		fired, _ = Call(t.Context(), p, func(s *testShard, done func([]string)) { done(slices.Clone(s.fired)) })
		if !slices.Equal(fired, []string{"early", "late"}) {
			t.Fatalf("after 2.5s fired %q, want early, late", fired)
		}

		// A task runs off the loop; what it returns runs in the shard.
		_, err = Call(t.Context(), p, func(s *testShard, done func(struct{})) {
			s.tasks = append(s.tasks, func(ctx context.Context) func() {
				time.Sleep(time.Second)
				return func() { s.events = append(s.events, "task") }
			})
			done(struct{}{})
		})
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		events, _ := Call(t.Context(), p, func(s *testShard, done func([]string)) { done(slices.Clone(s.events)) })
		if len(events) != 0 {
			t.Fatalf("task's outcome ran before the task ended: %q", events)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		events, _ = Call(t.Context(), p, func(s *testShard, done func([]string)) { done(slices.Clone(s.events)) })
		if !slices.Equal(events, []string{"task"}) {
			t.Fatalf("events %q, want the task's outcome", events)
		}
	})
}

// TestGather lists over two loaded partitions while a third is loading:
// the loaded ones' items come back with the loading error.
func TestGather(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := start(t)
		r.SetCount(3)
		gate := make(chan struct{})
		r.Load(0, 0, &memLog{})
		r.Load(1, 0, &memLog{})
		r.Load(2, 0, &memLog{gate: gate})
		synctest.Wait()
		items, err := Gather(t.Context(), r, func(s *testShard) []string { return []string{"item"} })
		if !errors.Is(err, errLoading) || len(items) != 2 {
			t.Fatalf("Gather while loading: %q %v", items, err)
		}
		close(gate)
		synctest.Wait()
		items, err = Gather(t.Context(), r, func(s *testShard) []string { return []string{"item"} })
		if err != nil || len(items) != 3 {
			t.Fatalf("Gather: %q %v", items, err)
		}
	})
}
