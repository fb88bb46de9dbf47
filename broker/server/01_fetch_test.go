package server

import (
	"errors"
	"maps"
	"math"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/runnel/runnel/broker/config"
	"github.com/runnel/runnel/broker/controller"
	"github.com/runnel/runnel/broker/log"
	"github.com/runnel/runnel/broker/metadata"
	"github.com/runnel/runnel/broker/record"
	"github.com/runnel/runnel/broker/replica"
	"github.com/twmb/franz-go/pkg/kerr"
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

// An incremental fetch long-polls over its session's partitions: with no
// new data it waits max.wait.ms and answers no partitions; a record
// appended meanwhile ends the wait and is the only partition answered.
func TestFetchSessionLongPoll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newBareServer(t)
		s.sessions = newFetchSessions(10)
		full := fetchRequest(0, 1)
		full.SessionEpoch = 0
		resp, _ := s.handleFetch(t.Context(), full)
		if resp.SessionID == 0 || len(resp.Topics) != 1 {
			t.Fatalf("full fetch: session %d, %d topics", resp.SessionID, len(resp.Topics))
		}
		id := resp.SessionID
		incr := func(epoch, maxWait int32) *kmsg.FetchRequest {
			r := fetchRequest(maxWait, 1)
			r.SessionID, r.SessionEpoch, r.Topics = id, epoch, nil
			return r
		}

		start := time.Now()
		resp, splices := s.handleFetch(t.Context(), incr(1, 500))
		if waited := time.Since(start); waited != 500*time.Millisecond || len(resp.Topics) != 0 || len(splices) != 0 {
			t.Fatalf("no data: waited %v, %d topics; want 500ms and none", waited, len(resp.Topics))
		}

		start = time.Now()
		go func() {
			time.Sleep(100 * time.Millisecond)
			appendOne(t, s)
		}()
		resp, splices = s.handleFetch(t.Context(), incr(2, 5000))
		if waited := time.Since(start); waited != 100*time.Millisecond {
			t.Fatalf("returned after %v, want 100ms when the record arrived", waited)
		}
		if resp.ErrorCode != 0 || resp.SessionID != id || len(resp.Topics) != 1 || len(splices) != 1 || resp.Topics[0].Partitions[0].HighWatermark != 1 {
			t.Fatalf("after append: error %d, session %d, %d topics, %d splices; want the new record", resp.ErrorCode, resp.SessionID, len(resp.Topics), len(splices))
		}
	})
}

func key(topic string, p int32) sessionKey { return sessionKey{topic: topic, partition: p} }

func spart(topic string, p int32, offset int64) sessionPartition {
	return newSessionPartition(key(topic, p), offset, 1<<20, -1, -1)
}

// The cache's eviction policy, as Kafka's: an idle session gives way to
// any new one; a session older than the eviction age gives way to a
// larger new one; otherwise the new session is refused.
func TestFetchSessionEviction(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	one := []sessionPartition{spart("a", 0, 0)}
	two := []sessionPartition{spart("a", 0, 0), spart("a", 1, 0)}
	use := func(c *fetchSessions, id int32, epoch int32, at time.Time) {
		t.Helper()
		if _, _, err := c.incremental(at, id, epoch, false, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name    string
		setup   func(c *fetchSessions) int32 // returns the existing session
		at      time.Time
		parts   []sessionPartition
		evicted bool
	}{
		{"young, larger newcomer", func(c *fetchSessions) int32 { return c.create(t0, false, one) }, t0.Add(time.Minute), two, false},
		{"idle past the age", func(c *fetchSessions) int32 { return c.create(t0, false, two) }, t0.Add(sessionEvictionAge + time.Second), one, true},
		{"old and used, smaller newcomer", func(c *fetchSessions) int32 {
			id := c.create(t0, false, two)
			use(c, id, 1, t0.Add(sessionEvictionAge+time.Second))
			return id
		}, t0.Add(sessionEvictionAge + 2*time.Second), one, false},
		{"old and used, equal newcomer", func(c *fetchSessions) int32 {
			id := c.create(t0, false, one)
			use(c, id, 1, t0.Add(sessionEvictionAge+time.Second))
			return id
		}, t0.Add(sessionEvictionAge + 2*time.Second), one, false},
		{"old and used, larger newcomer", func(c *fetchSessions) int32 {
			id := c.create(t0, false, one)
			use(c, id, 1, t0.Add(sessionEvictionAge+time.Second))
			return id
		}, t0.Add(sessionEvictionAge + 2*time.Second), two, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newFetchSessions(1)
			old := tc.setup(c)
			id := c.create(tc.at, false, tc.parts)
			_, stillThere := c.byID[old]
			if tc.evicted != (id != 0) || stillThere == tc.evicted || c.len() != 1 {
				t.Fatalf("new session %d, old one kept %v, %d sessions; want eviction %v", id, stillThere, c.len(), tc.evicted)
			}
		})
	}
}

// An incremental response reports partitions with records, errors or
// changed offsets, and moves the ones that returned records to the end of
// the read order.
func TestFetchSessionRespond(t *testing.T) {
	c := newFetchSessions(1)
	now := time.Unix(1_700_000_000, 0)
	id := c.create(now, false, []sessionPartition{spart("a", 0, 0), spart("a", 1, 0), spart("a", 2, 0), spart("a", 3, 0)})
	quiet := partitionRead{hw: 5, lso: 5, logStart: 0}
	s, snap, err := c.incremental(now, id, 1, false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Every partition is reported the first time (nothing told yet).
	if inc, err := s.respond(1, snap, []partitionRead{quiet, quiet, quiet, quiet}); err != nil || len(inc) != 4 {
		t.Fatalf("first response: %v %v", inc, err)
	}
	s, snap, _ = c.incremental(now, id, 2, false, nil, nil)
	reads := []partitionRead{
		{hw: 6, lso: 6, logStart: 0, records: true}, // records
		quiet,                        // unchanged
		{hw: 5, lso: 4, logStart: 0}, // last stable offset moved
		{hw: -1, lso: -1, logStart: -1, err: true}, // error
	}
	inc, err := s.respond(2, snap, reads)
	if err != nil || !slices.Equal(inc, []int{0, 2, 3}) {
		t.Fatalf("reported %v (%v), want [0 2 3]", inc, err)
	}
	s, snap, _ = c.incremental(now, id, 3, false, nil, nil)
	var order []int32
	for _, p := range snap {
		order = append(order, p.key.partition)
	}
	if !slices.Equal(order, []int32{1, 2, 3, 0}) {
		t.Fatalf("read order %v, want a-0 moved to the end", order)
	}
	// The errored partition is reported again even when it recovers
	// with its earlier offsets; the others are quiet now.
	inc, _ = s.respond(3, snap, []partitionRead{quiet, {hw: 5, lso: 4}, quiet, {hw: 6, lso: 6}})
	if !slices.Equal(inc, []int{2}) {
		t.Fatalf("reported %v, want [2] (a-3 after its error)", inc)
	}
	// A stale request's response is refused.
	if _, err := s.respond(1, snap, make([]partitionRead, len(snap))); !errors.Is(err, kerr.InvalidFetchSessionEpoch) {
		t.Fatalf("stale respond: %v", err)
	}
}

func TestNextSessionEpoch(t *testing.T) {
	for _, tc := range []struct{ in, want int32 }{{0, 1}, {1, 2}, {math.MaxInt32, 1}, {-1, -1}} {
		if got := nextSessionEpoch(tc.in); got != tc.want {
			t.Errorf("nextSessionEpoch(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// FuzzFetchSessions drives the session cache with random sequences of
// requests (full fetches that create sessions, incremental fetches with
// right and wrong epochs, additions and forgotten partitions, responses,
// closes, passing time) and checks it against a model: the errors it
// answers, each session's partitions and order, the partitions a response
// reports, and that evictions follow the policy.
func FuzzFetchSessions(f *testing.F) {
	f.Add([]byte{2, 0, 3, 1, 0, 0, 1, 1, 1, 0, 5, 1, 1, 2})
	f.Add([]byte{1, 0, 1, 0, 0, 1, 0, 3, 0, 1, 0, 4, 200, 0, 2, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &fuzzInput{b: data}
		c := newFetchSessions(int(in.next() % 4))
		type mpart struct {
			key               sessionKey
			hw, lso, logStart int64
		}
		type msession struct {
			topicIDs bool
			epoch    int32
			created  time.Time
			lastUsed time.Time
			parts    []mpart
		}
		model := map[int32]*msession{}
		now := time.Unix(1_700_000_000, 0)
		randKey := func(ids bool) sessionKey {
			b := in.next()
			if ids {
				return sessionKey{topicID: [16]byte{b & 1}, partition: int32(b>>1) % 4}
			}
			return sessionKey{topic: string(rune('a' + b&1)), partition: int32(b>>1) % 4}
		}
		randParts := func(ids bool) []sessionPartition {
			var ps []sessionPartition
			for range in.next() % 4 {
				ps = append(ps, newSessionPartition(randKey(ids), int64(in.next()), 100, -1, -1))
			}
			return ps
		}
		pickID := func() int32 {
			ids := slices.Sorted(maps.Keys(model))
			if b := int(in.next()); len(ids) > 0 && b%4 != 0 {
				return ids[b%len(ids)]
			}
			return int32(in.next()) + 1 // most likely unknown
		}
		merge := func(ms *msession, ps []sessionPartition) {
			for _, p := range ps {
				if !slices.ContainsFunc(ms.parts, func(m mpart) bool { return m.key == p.key }) {
					ms.parts = append(ms.parts, mpart{key: p.key, hw: -1, lso: -1, logStart: -1})
				}
			}
		}
		for in.more() {
			switch in.next() % 5 {
			case 0: // a full fetch that creates a session
				ids := in.next()%2 == 0
				ps := randParts(ids)
				before := maps.Clone(model)
				id := c.create(now, ids, ps)
				if id == 0 {
					if len(model) < c.slots {
						t.Fatalf("session refused with %d of %d slots used", len(model), c.slots)
					}
					break
				}
				if id < 0 || model[id] != nil {
					t.Fatalf("session id %d invalid or in use", id)
				}
				ms := &msession{topicIDs: ids, epoch: 1, created: now, lastUsed: now}
				merge(ms, ps)
				for oid, o := range before {
					if c.byID[oid] != nil {
						continue
					}
					idle := now.Sub(o.lastUsed) > sessionEvictionAge
					smaller := o.lastUsed.Sub(o.created) > sessionEvictionAge && len(o.parts) < len(ms.parts)
					if len(before) < c.slots || !idle && !smaller {
						t.Fatalf("session %d (%d partitions, idle %v) evicted for one of %d", oid, len(o.parts), now.Sub(o.lastUsed), len(ms.parts))
					}
					delete(model, oid)
				}
				model[id] = ms
			case 1, 2: // an incremental fetch, maybe answered
				id := pickID()
				ms := model[id]
				ids := in.next()%8 != 0
				epoch := int32(in.next()) % 3
				if ms != nil {
					if in.next()%8 != 0 {
						epoch = ms.epoch
					}
					if in.next()%8 != 0 {
						ids = ms.topicIDs
					}
				}
				upd := randParts(ids)
				var forget []sessionKey
				for range in.next() % 3 {
					forget = append(forget, randKey(ids))
				}
				s, snap, err := c.incremental(now, id, epoch, ids, upd, forget)
				switch {
				case ms == nil:
					if !errors.Is(err, kerr.FetchSessionIDNotFound) {
						t.Fatalf("unknown session %d: %v", id, err)
					}
					continue
				case epoch != ms.epoch:
					if !errors.Is(err, kerr.InvalidFetchSessionEpoch) {
						t.Fatalf("epoch %d for %d: %v", epoch, ms.epoch, err)
					}
					continue
				case ids != ms.topicIDs:
					if !errors.Is(err, kerr.FetchSessionTopicIDError) {
						t.Fatalf("topic ID mismatch: %v", err)
					}
					continue
				case err != nil:
					t.Fatal(err)
				}
				merge(ms, upd)
				ms.parts = slices.DeleteFunc(ms.parts, func(m mpart) bool { return slices.Contains(forget, m.key) })
				if len(ms.parts) == 0 {
					if s != nil || c.byID[id] != nil {
						t.Fatal("emptied session not closed")
					}
					delete(model, id)
					continue
				}
				ms.epoch, ms.lastUsed = nextSessionEpoch(ms.epoch), now
				if s == nil || len(snap) != len(ms.parts) {
					t.Fatalf("snapshot of %d partitions, model has %d", len(snap), len(ms.parts))
				}
				for i := range snap {
					if snap[i].key != ms.parts[i].key {
						t.Fatalf("partition %d is %v, want %v", i, snap[i].key, ms.parts[i].key)
					}
				}
				if in.next()%2 == 0 {
					continue // the response never comes (connection lost)
				}
				reads := make([]partitionRead, len(snap))
				var want []int
				var head, tail []mpart
				for i := range reads {
					b := in.next()
					r := partitionRead{hw: int64(b & 3), lso: int64(b>>2) & 3, logStart: int64(b>>4) & 1, records: b&0x20 != 0, err: b&0x40 != 0}
					m := ms.parts[i]
					if r.records || r.err || r.hw != m.hw || r.lso != m.lso || r.logStart != m.logStart {
						want = append(want, i)
					}
					m.hw, m.lso, m.logStart = r.hw, r.lso, r.logStart
					if r.err {
						m.hw = -1
					}
					if r.records {
						tail = append(tail, m)
					} else {
						head = append(head, m)
					}
					reads[i] = r
				}
				got, err := s.respond(epoch, snap, reads)
				if err != nil || !slices.Equal(got, want) {
					t.Fatalf("reported %v (%v), want %v", got, err, want)
				}
				ms.parts = append(head, tail...)
			case 3: // a close
				id := pickID()
				c.remove(id)
				delete(model, id)
			case 4: // time passes
				now = now.Add(time.Duration(in.next()) * time.Second)
			}
			if len(c.byID) != len(model) || len(c.byID) > c.slots {
				t.Fatalf("%d sessions, model %d, slots %d", len(c.byID), len(model), c.slots)
			}
			for id, s := range c.byID {
				ms := model[id]
				if ms == nil || s.id != id || s.epoch != ms.epoch || len(s.parts) != len(s.index) || len(s.parts) != len(ms.parts) {
					t.Fatalf("session %d out of step with the model", id)
				}
				for i, p := range s.parts {
					if s.index[p.key] != p || p.key != ms.parts[i].key {
						t.Fatalf("session %d: partition %d is %v, want %v", id, i, p.key, ms.parts[i].key)
					}
				}
			}
		}
	})
}

// fuzzInput reads a fuzz input a byte at a time, zeros past its end.
type fuzzInput struct {
	b []byte
	i int
}

func (in *fuzzInput) more() bool { return in.i < len(in.b) }

func (in *fuzzInput) next() byte {
	if in.i >= len(in.b) {
		return 0
	}
	in.i++
	return in.b[in.i-1]
}
