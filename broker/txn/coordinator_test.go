package txn

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/runnel/runnel/broker/controller"
	"github.com/runnel/runnel/broker/internal/coord/coordtest"
	"github.com/runnel/runnel/broker/metadata"
)

// memLog is an in-memory PartitionLog.
type memLog = coordtest.Log

// states returns the state of every value written to l for id, in order.
func states(t *testing.T, l *memLog, id string) []string {
	t.Helper()
	var out []string
	for _, b := range l.Batches() {
		recs, err := b.DecodeRecords()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if k, err := ParseKey(r.Key); err != nil || k != id {
				continue
			}
			if r.Value == nil {
				out = append(out, "tombstone")
				continue
			}
			v, err := ParseValue(r.Value)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s/%d", v.State, v.ProducerEpoch))
		}
	}
	return out
}

type markerCall struct {
	producerID       int64
	epoch            int16
	coordinatorEpoch int32
	commit           bool
	partitions       []TopicPartition
}

// fakeMarkers records marker writes. The first failures calls fail;
// while block is set, calls wait for it to close or their context.
type fakeMarkers struct {
	mu       sync.Mutex
	calls    []markerCall
	failures int
	block    chan struct{}
}

func (f *fakeMarkers) WriteMarkers(ctx context.Context, pid int64, epoch int16, coordinatorEpoch int32, commit bool, parts []TopicPartition) error {
	f.mu.Lock()
	block := f.block
	f.calls = append(f.calls, markerCall{pid, epoch, coordinatorEpoch, commit, slices.Clone(parts)})
	fail := f.failures > 0
	if fail {
		f.failures--
	}
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if fail {
		return errors.New("leader not available")
	}
	return nil
}

func (f *fakeMarkers) snapshot() []markerCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func newTestCoordinator(t *testing.T, markers MarkerWriter, mod func(*Config)) *Coordinator {
	t.Helper()
	next := int64(5000)
	cfg := Config{
		NodeID:                1,
		ProducerIDs:           NewProducerIDs(func(n int64) (int64, error) { first := next; next += n; return first, nil }),
		Markers:               markers,
		MaxTimeout:            time.Minute,
		AbortTimedOutInterval: time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetPartitionCount(1)
	t.Cleanup(func() { c.Close() })
	return c
}

var orders = []TopicPartition{{"orders", 0}, {"orders", 1}}

// TestCoordinatorCommit runs a transaction through the loop: the markers
// go out with the partition's leader epoch as coordinator epoch, and the
// log holds every state in order.
func TestCoordinatorCommit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		markers := &fakeMarkers{}
		c := newTestCoordinator(t, markers, nil)
		log := &memLog{}
		c.Load(0, 7, log)
		ctx := t.Context()
		synctest.Wait()

		pid, epoch, err := c.InitProducerID(ctx, "t1", 30*time.Second, -1, -1)
		if err != nil || pid != 5000 || epoch != 0 {
			t.Fatalf("InitProducerID = %d, %d, %v", pid, epoch, err)
		}
		if err := c.AddPartitions(ctx, "t1", pid, epoch, orders); err != nil {
			t.Fatal(err)
		}
		if err := c.AddOffsets(ctx, "t1", pid, epoch, 12); err != nil {
			t.Fatal(err)
		}
		errs, err := c.VerifyPartitions(ctx, "t1", pid, epoch, []TopicPartition{{"orders", 1}, {"orders", 2}})
		if err != nil || errs[0] != nil || !errors.Is(errs[1], ErrTransactionAbortable) {
			t.Fatalf("VerifyPartitions = %v, %v", errs, err)
		}
		if err := c.EndTxn(ctx, "t1", pid, epoch, true); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		want := []markerCall{{pid, epoch, 7, true, []TopicPartition{{controller.ConsumerOffsetsTopic, 12}, {"orders", 0}, {"orders", 1}}}}
		if got := markers.snapshot(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("markers = %v, want %v", got, want)
		}
		d := c.Describe(ctx, []string{"t1", "nope"})
		if d[0].Err != nil || d[0].State != CompleteCommit || len(d[0].Partitions) != 0 || d[0].Timeout != 30*time.Second {
			t.Fatalf("Describe t1 = %+v", d[0])
		}
		if !errors.Is(d[1].Err, ErrTransactionalIDNotFound) {
			t.Fatalf("Describe nope = %+v", d[1])
		}
		got := states(t, log, "t1")
		if want := []string{"Empty/0", "Ongoing/0", "Ongoing/0", "PrepareCommit/0", "CompleteCommit/0"}; !slices.Equal(got, want) {
			t.Fatalf("log = %v, want %v", got, want)
		}
		ls, err := c.List(ctx, ListFilter{States: []State{CompleteCommit}})
		if err != nil || len(ls) != 1 || ls[0].ID != "t1" || ls[0].ProducerID != pid {
			t.Fatalf("List = %v, %v", ls, err)
		}
	})
}

// TestCoordinatorRequestValidation checks the errors answered before a
// request reaches a partition.
func TestCoordinatorRequestValidation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newTestCoordinator(t, &fakeMarkers{}, nil)
		ctx := t.Context()
		for _, tc := range []struct {
			id      string
			timeout time.Duration
			pid     int64
			epoch   int16
			want    error
		}{
			{"t1", time.Minute + time.Millisecond, -1, -1, ErrInvalidTransactionTimeout},
			{"t1", 0, -1, -1, ErrInvalidTransactionTimeout},
			{"t1", time.Second, 5, -1, ErrInvalidRequest},
			{"", time.Second, -1, -1, ErrInvalidRequest},
			{"t1", time.Second, -1, -1, ErrNotCoordinator}, // partition 0 not loaded
		} {
			if _, _, err := c.InitProducerID(ctx, tc.id, tc.timeout, tc.pid, tc.epoch); !errors.Is(err, tc.want) {
				t.Errorf("InitProducerID(%q, %v, %d, %d) = %v, want %v", tc.id, tc.timeout, tc.pid, tc.epoch, err, tc.want)
			}
		}
	})
}

// TestCoordinatorRestartMidPrepareCommit stops a coordinator after
// PrepareCommit is written and before any marker is: the coordinator that
// loads the partition next writes the markers with its own epoch and
// completes the commit.
func TestCoordinatorRestartMidPrepareCommit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := &memLog{}
		stuck := &fakeMarkers{block: make(chan struct{})}
		c1 := newTestCoordinator(t, stuck, nil)
		c1.Load(0, 1, log)
		ctx := t.Context()
		synctest.Wait()
		pid, epoch, err := c1.InitProducerID(ctx, "t1", 30*time.Second, -1, -1)
		if err != nil {
			t.Fatal(err)
		}
		if err := c1.AddPartitions(ctx, "t1", pid, epoch, orders); err != nil {
			t.Fatal(err)
		}
		if err := c1.EndTxn(ctx, "t1", pid, epoch, true); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if d := c1.Describe(ctx, []string{"t1"})[0]; d.State != PrepareCommit {
			t.Fatalf("before the restart: %+v", d)
		}
		c1.Close() // the marker write in flight is abandoned

		markers := &fakeMarkers{}
		c2 := newTestCoordinator(t, markers, nil)
		c2.Load(0, 2, log)
		synctest.Wait()
		want := []markerCall{{pid, epoch, 2, true, orders}}
		if got := markers.snapshot(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("markers after the restart = %v, want %v", got, want)
		}
		if d := c2.Describe(ctx, []string{"t1"})[0]; d.State != CompleteCommit {
			t.Fatalf("after the restart: %+v", d)
		}
		if err := c2.EndTxn(ctx, "t1", pid, epoch, true); err != nil {
			t.Fatalf("retried EndTxn after completion: %v", err)
		}
		got := states(t, log, "t1")
		if want := []string{"Empty/0", "Ongoing/0", "PrepareCommit/0", "CompleteCommit/0"}; !slices.Equal(got, want) {
			t.Fatalf("log = %v, want %v", got, want)
		}
	})
}

// TestCoordinatorMarkerRetry has the marker writer fail three times: the
// coordinator retries with backoff, and writes CompleteAbort only after
// the markers are written.
func TestCoordinatorMarkerRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		markers := &fakeMarkers{failures: 3}
		c := newTestCoordinator(t, markers, nil)
		log := &memLog{}
		c.Load(0, 1, log)
		ctx := t.Context()
		synctest.Wait()
		pid, epoch, err := c.InitProducerID(ctx, "t1", 30*time.Second, -1, -1)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddPartitions(ctx, "t1", pid, epoch, orders); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := c.EndTxn(ctx, "t1", pid, epoch, false); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		// Retries at +100ms, +300ms, +700ms.
		time.Sleep(699 * time.Millisecond)
		synctest.Wait()
		if n := len(markers.snapshot()); n != 3 {
			t.Fatalf("%d marker writes after %v, want 3", n, time.Since(start))
		}
		if d := c.Describe(ctx, []string{"t1"})[0]; d.State != PrepareAbort || len(d.Partitions) != 2 {
			t.Fatalf("while the markers fail: %+v", d)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if n := len(markers.snapshot()); n != 4 {
			t.Fatalf("%d marker writes, want 4", n)
		}
		if d := c.Describe(ctx, []string{"t1"})[0]; d.State != CompleteAbort {
			t.Fatalf("after the markers: %+v", d)
		}
	})
}

// TestCoordinatorTimeout leaves a transaction open past its timeout: the
// coordinator aborts it with the epoch bumped, and the producer is fenced.
func TestCoordinatorTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		markers := &fakeMarkers{}
		c := newTestCoordinator(t, markers, nil)
		c.Load(0, 1, &memLog{})
		ctx := t.Context()
		synctest.Wait()
		pid, epoch, err := c.InitProducerID(ctx, "t1", 5*time.Second, -1, -1)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddPartitions(ctx, "t1", pid, epoch, orders); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if d := c.Describe(ctx, []string{"t1"})[0]; d.State != Ongoing {
			t.Fatalf("at the timeout: %+v", d)
		}
		time.Sleep(time.Second) // the next check, every second here
		synctest.Wait()
		d := c.Describe(ctx, []string{"t1"})[0]
		if d.State != CompleteAbort || d.ProducerEpoch != epoch+1 {
			t.Fatalf("after the timeout: %+v", d)
		}
		if m := markers.snapshot(); len(m) != 1 || m[0].commit || m[0].epoch != epoch+1 {
			t.Fatalf("markers = %v", m)
		}
		if err := c.EndTxn(ctx, "t1", pid, epoch, true); !errors.Is(err, ErrProducerFenced) {
			t.Fatalf("EndTxn of the timed-out producer = %v", err)
		}
	})
}

// TestCoordinatorUnload unloads a partition while an EndTxn waits for its
// write and while it loads: waiting requests get NOT_COORDINATOR, loading
// ones COORDINATOR_LOAD_IN_PROGRESS.
func TestCoordinatorUnload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newTestCoordinator(t, &fakeMarkers{}, nil)
		log := &memLog{}
		c.Load(0, 1, log)
		ctx := t.Context()
		synctest.Wait()
		pid, epoch, err := c.InitProducerID(ctx, "t1", 30*time.Second, -1, -1)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddPartitions(ctx, "t1", pid, epoch, orders); err != nil {
			t.Fatal(err)
		}
		log.AppendGate = make(chan struct{})
		errc := make(chan error, 1)
		go func() { errc <- c.EndTxn(ctx, "t1", pid, epoch, true) }()
		synctest.Wait()
		c.Unload(0)
		if err := <-errc; !errors.Is(err, ErrNotCoordinator) {
			t.Fatalf("EndTxn waiting during the unload = %v", err)
		}
		if err := c.EndTxn(ctx, "t1", pid, epoch, true); !errors.Is(err, ErrNotCoordinator) {
			t.Fatalf("EndTxn after the unload = %v", err)
		}

		log.AppendGate = nil
		log.ReadGate = make(chan struct{})
		c.Load(0, 2, log)
		synctest.Wait()
		if err := c.EndTxn(ctx, "t1", pid, epoch, true); !errors.Is(err, ErrCoordinatorLoadInProgress) {
			t.Fatalf("EndTxn while loading = %v", err)
		}
		if _, err := c.List(ctx, ListFilter{}); !errors.Is(err, ErrCoordinatorLoadInProgress) {
			t.Fatalf("List while loading = %v", err)
		}
		close(log.ReadGate)
		synctest.Wait()
		// The PrepareCommit was never written: the transaction is still
		// ongoing and can end now.
		if err := c.EndTxn(ctx, "t1", pid, epoch, true); err != nil {
			t.Fatalf("EndTxn after reloading = %v", err)
		}
	})
}

// TestCoordinatorApply follows leadership through metadata images: a
// partition whose leadership moves elsewhere is unloaded.
func TestCoordinatorApply(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newTestCoordinator(t, &fakeMarkers{}, nil)
		c.Load(0, 3, &memLog{})
		ctx := t.Context()
		img := metadata.Empty("cluster")
		topic := &metadata.Topic{Name: controller.TransactionStateTopic, Partitions: []metadata.Partition{{Index: 0, Leader: 2, LeaderEpoch: 4}}}
		img.Topics[topic.Name] = topic
		c.Apply(img)
		if _, _, err := c.InitProducerID(ctx, "t1", time.Second, -1, -1); !errors.Is(err, ErrNotCoordinator) {
			t.Fatalf("InitProducerID after losing leadership = %v", err)
		}
	})
}
