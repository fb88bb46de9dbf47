package txn

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runnel/runnel/broker/internal/coord/coordtest"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of script tests")

// TestScripts runs the scenarios in testdata/scripts against a shard. Each
// block of a script is a command, a line "----" and the output expected:
// every answer delivered, every record written and every marker write
// asked for while it ran, in order. Times are explicit (tick) and producer
// IDs count from 1000, so runs are exact. go test -run TestScripts
// -rewrite regenerates the outputs, which then need reading: they are the
// specification.
func TestScripts(t *testing.T) {
	coordtest.RunScripts(t, "testdata/scripts/*.txt", *rewrite, func() coordtest.Exec { return newHarness().exec })
}

var errNames = map[error]string{
	ErrInvalidRequest:            "INVALID_REQUEST",
	ErrNotCoordinator:            "NOT_COORDINATOR",
	ErrCoordinatorLoadInProgress: "COORDINATOR_LOAD_IN_PROGRESS",
	ErrCoordinatorNotAvailable:   "COORDINATOR_NOT_AVAILABLE",
	ErrConcurrentTransactions:    "CONCURRENT_TRANSACTIONS",
	ErrProducerFenced:            "PRODUCER_FENCED",
	ErrInvalidProducerEpoch:      "INVALID_PRODUCER_EPOCH",
	ErrInvalidProducerIDMapping:  "INVALID_PRODUCER_ID_MAPPING",
	ErrInvalidTxnState:           "INVALID_TXN_STATE",
	ErrInvalidTransactionTimeout: "INVALID_TRANSACTION_TIMEOUT",
	ErrTransactionAbortable:      "TRANSACTION_ABORTABLE",
	ErrTransactionalIDNotFound:   "TRANSACTIONAL_ID_NOT_FOUND",
	ErrPartitionDeleted:          "(partition deleted)",
	ErrCoordinatorFenced:         "(coordinator fenced)",
	errWriteTimeout:              "(write timed out)",
	errWriteTooLarge:             "(write too large)",
}

// errName names err by the first sentinel it wraps, in a fixed order so
// that an error wrapping two (COORDINATOR_NOT_AVAILABLE around a
// timeout) is named by the one the client sees.
func errName(err error) string {
	if err == nil {
		return "ok"
	}
	order := []error{
		ErrCoordinatorNotAvailable, ErrInvalidRequest, ErrNotCoordinator, ErrCoordinatorLoadInProgress,
		ErrConcurrentTransactions, ErrProducerFenced, ErrInvalidProducerEpoch, ErrInvalidProducerIDMapping,
		ErrInvalidTxnState, ErrInvalidTransactionTimeout, ErrTransactionAbortable, ErrTransactionalIDNotFound,
		ErrPartitionDeleted, ErrCoordinatorFenced, errWriteTimeout, errWriteTooLarge,
	}
	for _, e := range order {
		if errors.Is(err, e) {
			return errNames[e]
		}
	}
	return "UNKNOWN_SERVER_ERROR(" + err.Error() + ")"
}

// scriptStart is the harness clock's origin.
var scriptStart = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

type harness struct {
	cfg     shardConfig
	epoch   int32
	s       *shard
	now     time.Time
	nextPID int64
	out     strings.Builder
	hold    bool
	held    []write
	markers []markerJob // asked for and not yet answered
	written [][]kv      // every record batch written successfully: the log
}

func newHarness() *harness {
	h := &harness{now: scriptStart, nextPID: 1000, epoch: 5}
	h.cfg = shardConfig{
		idExpiration:   24 * time.Hour,
		abortInterval:  10 * time.Second,
		expireInterval: time.Hour,
		newProducerID: func() (int64, error) {
			id := h.nextPID
			h.nextPID++
			return id, nil
		},
	}
	h.s = newShard(h.cfg, h.epoch)
	h.step(func() { h.s.load(nil) })
	return h
}

// step runs fn in the shard, completes its writes unless held and
// collects its marker writes.
func (h *harness) step(fn func()) {
	h.s.run(h.now, fn)
	h.flushWrites(nil)
}

func (h *harness) flushWrites(err error) {
	for {
		h.takeMarkers()
		ws := h.s.takeWrites()
		if h.hold && err == nil {
			h.held = append(h.held, ws...)
			return
		}
		ws = append(h.held, ws...)
		h.held = nil
		if len(ws) == 0 {
			return
		}
		for _, w := range ws {
			if err == nil {
				h.written = append(h.written, w.records)
				for _, r := range w.records {
					fmt.Fprintf(&h.out, "log: %s\n", describeRecord(r))
				}
			} else {
				fmt.Fprintf(&h.out, "log: write failed: %s\n", errName(err))
			}
			h.s.run(h.now, func() { w.done(err) })
		}
		err = nil
	}
}

func (h *harness) takeMarkers() {
	for _, j := range h.s.takeMarkers() {
		outcome := "abort"
		if j.commit {
			outcome = "commit"
		}
		fmt.Fprintf(&h.out, "markers: %s %s pid=%d epoch=%d coordinator-epoch=%d [%s]\n", j.id, outcome, j.producerID, j.epoch, j.coordinatorEpoch, tpList(j.partitions))
		h.markers = append(h.markers, j)
	}
}

func describeRecord(r kv) string {
	id, err := ParseKey(r.key)
	if err != nil {
		return "bad key: " + err.Error()
	}
	if r.value == nil {
		return "tombstone " + id
	}
	v, err := ParseValue(r.value)
	if err != nil {
		return "bad value: " + err.Error()
	}
	s := fmt.Sprintf("%s v%d pid=%d epoch=%d state=%s timeout=%s partitions=[%s] start=%s updated=%s",
		id, v.Version, v.ProducerID, v.ProducerEpoch, v.State, time.Duration(v.TimeoutMs)*time.Millisecond,
		tpList(v.Partitions), rel(v.StartTimestamp), rel(v.LastUpdateTimestamp))
	if v.PreviousProducerID >= 0 {
		s += fmt.Sprintf(" previous-pid=%d", v.PreviousProducerID)
	}
	return s
}

func rel(ms int64) string {
	if ms < 0 {
		return "none"
	}
	return "+" + time.UnixMilli(ms).Sub(scriptStart).String()
}

func tpList(tps []TopicPartition) string {
	s := make([]string, len(tps))
	for i, tp := range tps {
		s[i] = tp.String()
	}
	return strings.Join(s, " ")
}

func parseTP(s string) TopicPartition {
	i := strings.LastIndexByte(s, '-')
	p, _ := strconv.Atoi(s[i+1:])
	return TopicPartition{Topic: s[:i], Partition: int32(p)}
}

func parseTPs(s string) []TopicPartition {
	if s == "" {
		return nil
	}
	var tps []TopicPartition
	for p := range strings.SplitSeq(s, ",") {
		tps = append(tps, parseTP(p))
	}
	return tps
}

func (h *harness) exec(t *testing.T, line string) string {
	t.Helper()
	h.out.Reset()
	cmd, tag, a := coordtest.ParseCmd(line)
	dur := func(k string, def time.Duration) time.Duration {
		v, ok := a[k]
		if !ok {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("%s: %s: %v", line, k, err)
		}
		return d
	}
	num := func(k string, def int64) int64 {
		v, ok := a[k]
		if !ok {
			return def
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("%s: %s: %v", line, k, err)
		}
		return n
	}
	id := a["id"]
	pid, epoch := num("pid", -1), int16(num("epoch", -1))
	switch cmd {
	case "config":
		h.cfg.idExpiration = dur("expiration", h.cfg.idExpiration)
		h.cfg.abortInterval = dur("abort-interval", h.cfg.abortInterval)
		h.cfg.expireInterval = dur("expire-interval", h.cfg.expireInterval)
		h.cfg.valueVersion = int16(num("version", int64(h.cfg.valueVersion)))
		h.nextPID = num("next-pid", h.nextPID)
		h.s = newShard(h.cfg, h.epoch)
		h.step(func() { h.s.load(nil) })
	case "init":
		var expected *pidEpoch
		if pid >= 0 {
			expected = &pidEpoch{producerID: pid, epoch: epoch}
		}
		timeout := dur("timeout", time.Minute)
		h.step(func() {
			h.s.initProducerID(id, int32(timeout.Milliseconds()), expected, func(pid int64, epoch int16, err error) {
				if err != nil {
					fmt.Fprintf(&h.out, "%s: init %s\n", tag, errName(err))
					return
				}
				fmt.Fprintf(&h.out, "%s: init ok pid=%d epoch=%d\n", tag, pid, epoch)
			})
		})
	case "add":
		h.step(func() {
			h.s.addPartitions(id, pid, epoch, parseTPs(a["partitions"]), func(err error) {
				fmt.Fprintf(&h.out, "%s: add %s\n", tag, errName(err))
			})
		})
	case "verify":
		tps := parseTPs(a["partitions"])
		h.step(func() {
			errs, err := h.s.verifyPartitions(id, pid, epoch, tps)
			if err != nil {
				fmt.Fprintf(&h.out, "%s: verify %s\n", tag, errName(err))
				return
			}
			per := make([]string, len(tps))
			for i, e := range errs {
				per[i] = tps[i].String() + ":" + errName(e)
			}
			fmt.Fprintf(&h.out, "%s: verify [%s]\n", tag, strings.Join(per, " "))
		})
	case "end":
		commit := a["commit"] == "true"
		if !commit && a["abort"] != "true" {
			t.Fatalf("%s: end needs commit or abort", line)
		}
		h.step(func() {
			h.s.endTxn(id, pid, epoch, commit, func(err error) {
				fmt.Fprintf(&h.out, "%s: end %s\n", tag, errName(err))
			})
		})
	case "markers":
		// markers ok | markers fail=err [partitions=t-0,...]: answers every
		// marker write asked for so far. With partitions, only those fail.
		jobs := h.markers
		h.markers = nil
		var ferr error
		switch a["fail"] {
		case "":
		case "timeout":
			ferr = errors.New("request timed out")
		case "deleted":
			ferr = ErrPartitionDeleted
		case "fenced":
			ferr = ErrCoordinatorFenced
		default:
			t.Fatalf("%s: unknown failure %q", line, a["fail"])
		}
		only := parseTPs(a["partitions"])
		for _, j := range jobs {
			var err error
			if ferr != nil {
				if only == nil {
					err = ferr
				} else {
					me := MarkerErrors{}
					for _, tp := range only {
						if slices.Contains(j.partitions, tp) {
							me[tp] = ferr
						}
					}
					if len(me) > 0 {
						err = me
					}
				}
			}
			fmt.Fprintf(&h.out, "markers %s: %s\n", j.id, errName(err))
			h.step(func() { j.done(err) })
		}
	case "describe":
		h.step(func() {
			d := h.s.describe(id)
			if d.Err != nil {
				fmt.Fprintf(&h.out, "%s: %s\n", id, errName(d.Err))
				return
			}
			start := "none"
			if !d.StartTime.IsZero() {
				start = "+" + d.StartTime.Sub(scriptStart).String()
			}
			fmt.Fprintf(&h.out, "%s state=%s pid=%d epoch=%d timeout=%s start=%s partitions=[%s]\n", d.ID, d.State, d.ProducerID, d.ProducerEpoch, d.Timeout, start, tpList(d.Partitions))
		})
	case "list":
		var f ListFilter
		if ss, ok := a["states"]; ok {
			for name := range strings.SplitSeq(ss, ",") {
				st, ok := ParseState(name)
				if !ok {
					t.Fatalf("%s: unknown state %q", line, name)
				}
				f.States = append(f.States, st)
			}
		}
		if ps, ok := a["pids"]; ok {
			for p := range strings.SplitSeq(ps, ",") {
				n, _ := strconv.ParseInt(p, 10, 64)
				f.ProducerIDs = append(f.ProducerIDs, n)
			}
		}
		f.MinDuration = dur("min-duration", 0)
		h.step(func() {
			for _, l := range h.s.list(f) {
				fmt.Fprintf(&h.out, "%s pid=%d state=%s\n", l.ID, l.ProducerID, l.State)
			}
		})
	case "tick":
		d, err := time.ParseDuration(tag)
		if err != nil {
			t.Fatal(err)
		}
		// Time moves from deadline to deadline, as the loop's timer wakes
		// the shard at each.
		end := h.now.Add(d)
		for {
			at, ok := h.s.next()
			if !ok || at.After(end) {
				break
			}
			h.now = at
			h.step(nil)
		}
		h.now = end
		h.step(nil)
	case "hold":
		h.hold = true
	case "flush":
		h.hold = false
		var err error
		switch a["err"] {
		case "":
		case "timeout":
			err = errWriteTimeout
		case "not-coordinator":
			err = ErrNotCoordinator
		case "too-large":
			err = errWriteTooLarge
		default:
			t.Fatalf("flush: unknown err %q", a["err"])
		}
		h.flushWrites(err)
	case "state":
		h.printState(id)
	case "put":
		// put id=x pid=N epoch=N state=S [partitions=...]: a record in the
		// log as another coordinator wrote it, seen after a restart.
		st, ok := ParseState(a["state"])
		if !ok {
			t.Fatalf("%s: unknown state %q", line, a["state"])
		}
		v := Value{
			ProducerID: pid, ProducerEpoch: epoch, PreviousProducerID: -1, NextProducerID: -1,
			TimeoutMs: int32(dur("timeout", time.Minute).Milliseconds()), State: st,
			Partitions: parseTPs(a["partitions"]), LastUpdateTimestamp: h.now.UnixMilli(), StartTimestamp: -1,
		}
		if st != Empty {
			v.StartTimestamp = h.now.UnixMilli()
		}
		h.written = append(h.written, []kv{{key: AppendKey(nil, id), value: v.AppendTo(nil)}})
	case "restart":
		// A new shard replays what was written, as a coordinator loading
		// the partition after a restart or a leader change; marker writes
		// in flight are lost with the old one.
		h.epoch = int32(num("coordinator-epoch", int64(h.epoch+1)))
		h.markers, h.held, h.hold = nil, nil, false
		values := map[string]Value{}
		for _, batch := range h.written {
			for _, r := range batch {
				if err := replayRecord(values, r.key, r.value); err != nil {
					t.Fatalf("replay: %v", err)
				}
			}
		}
		h.s = newShard(h.cfg, h.epoch)
		h.step(func() { h.s.load(values) })
	default:
		t.Fatalf("unknown command %q", cmd)
	}
	return h.out.String()
}

func (h *harness) printState(id string) {
	m := h.s.txns[id]
	if m == nil {
		fmt.Fprintf(&h.out, "%s: none\n", id)
		return
	}
	fmt.Fprintf(&h.out, "%s state=%s pid=%d epoch=%d last-pid=%d last-epoch=%d timeout=%dms start=%s updated=%s partitions=[%s]",
		id, m.state, m.producerID, m.epoch, m.lastProducerID, m.lastEpoch, m.timeoutMs, rel(m.startMs), rel(m.updateMs), tpList(m.sortedPartitions()))
	if m.pending {
		fmt.Fprintf(&h.out, " pending=%s", m.pendingState)
	}
	if m.stage != stageNone {
		fmt.Fprintf(&h.out, " stage=%s", [...]string{"none", "markers", "markers-retry", "complete", "complete-retry", "fenced"}[m.stage])
	}
	h.out.WriteString("\n")
}
