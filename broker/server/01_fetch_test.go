package server

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/runnel/runnel/broker/config"
	"github.com/runnel/runnel/broker/controller"
	"github.com/runnel/runnel/broker/log"
	"github.com/runnel/runnel/broker/metadata"
	"github.com/runnel/runnel/broker/record"
	"github.com/runnel/runnel/broker/replica"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// newBareServer wires a controller, replica manager and server without
// listeners, so handlers can be called directly (inside a synctest bubble).
func newBareServer(t *testing.T) *Server {
	t.Helper()
	bc, err := config.ParseBroker(map[string]string{"log.dirs": t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	logs, err := log.NewManager(log.ManagerConfig{Dirs: bc.LogDirs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logs.Close() })
	ctrl, err := controller.New(controller.Config{Image: metadata.Empty("test"), DeleteTopicEnable: true})
	if err != nil {
		t.Fatal(err)
	}
	reps := replica.NewManager(replica.ManagerConfig{NodeID: bc.NodeID, Logs: logs})
	ctrl.Subscribe(func(img *metadata.Image) {
		if err := reps.Apply(img); err != nil {
			t.Errorf("apply: %v", err)
		}
	})
	if err := ctrl.RegisterBroker(metadata.Broker{NodeID: bc.NodeID}); err != nil {
		t.Fatal(err)
	}
	if _, errs := ctrl.CreateTopics([]controller.TopicSpec{{Name: "t", NumPartitions: 1, ReplicationFactor: 1}}, false); errs[0] != nil {
		t.Fatal(errs[0])
	}
	s, err := New(Config{NodeID: bc.NodeID, Broker: bc, Controller: ctrl, Replicas: reps})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func fetchRequest(maxWait, minBytes int32) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(11)
	req.MaxWaitMillis, req.MinBytes, req.MaxBytes = maxWait, minBytes, 1<<20
	req.SessionEpoch = -1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = "t"
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.PartitionMaxBytes = 1 << 20
	rp.CurrentLeaderEpoch = -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

func appendOne(t *testing.T, s *Server) {
	t.Helper()
	b := record.NewBuilder(record.BuilderOptions{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1})
	b.Add(record.Record{Timestamp: time.Now().UnixMilli(), Value: []byte("v")})
	batch, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.cfg.Replicas.Get("t", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Append(batch, 1); err != nil {
		t.Fatal(err)
	}
}

// The long poll waits exactly max.wait.ms when no data comes, returns as
// soon as data arrives, and does not wait when data is already there.
func TestFetchLongPoll(t *testing.T) {
	t.Run("times out empty", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newBareServer(t)
			start := time.Now()
			resp, splices := s.handleFetch(t.Context(), fetchRequest(500, 1))
			if waited := time.Since(start); waited != 500*time.Millisecond {
				t.Fatalf("waited %v, want max.wait.ms 500ms", waited)
			}
			if len(splices) != 0 || resp.Topics[0].Partitions[0].HighWatermark != 0 {
				t.Fatalf("empty fetch returned data: %d splices", len(splices))
			}
		})
	})
	t.Run("wakes on append", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newBareServer(t)
			start := time.Now()
			go func() {
				time.Sleep(100 * time.Millisecond)
				appendOne(t, s)
			}()
			resp, splices := s.handleFetch(t.Context(), fetchRequest(5000, 1))
			if waited := time.Since(start); waited != 100*time.Millisecond {
				t.Fatalf("returned after %v, want 100ms when the record arrived", waited)
			}
			if len(splices) != 1 || resp.Topics[0].Partitions[0].HighWatermark != 1 {
				t.Fatalf("got %d splices, hw %d; want the new record", len(splices), resp.Topics[0].Partitions[0].HighWatermark)
			}
		})
	})
	t.Run("data present", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newBareServer(t)
			appendOne(t, s)
			start := time.Now()
			_, splices := s.handleFetch(t.Context(), fetchRequest(5000, 1))
			if waited := time.Since(start); waited != 0 || len(splices) != 1 {
				t.Fatalf("waited %v with %d splices; want an immediate answer", waited, len(splices))
			}
		})
	})
	t.Run("min bytes not met", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newBareServer(t)
			appendOne(t, s)
			start := time.Now()
			_, splices := s.handleFetch(t.Context(), fetchRequest(300, 1<<20))
			if waited := time.Since(start); waited != 300*time.Millisecond || len(splices) != 1 {
				t.Fatalf("waited %v with %d splices; want 300ms and the data there is", waited, len(splices))
			}
		})
	})
}

// Shutdown answers a waiting fetch at once instead of after max.wait.ms.
func TestShutdownEndsFetchWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newBareServer(t)
		start := time.Now()
		go func() {
			time.Sleep(100 * time.Millisecond)
			s.Shutdown(t.Context())
		}()
		s.handleFetch(s.fetchCtx, fetchRequest(5000, 1))
		if waited := time.Since(start); waited != 100*time.Millisecond {
			t.Fatalf("fetch returned after %v, want at shutdown (100ms)", waited)
		}
	})
}
