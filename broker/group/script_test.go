package group

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
// every answer delivered and every record written while it ran, in order.
// Times are explicit (tick), member IDs are client-N, so runs are exact.
// go test -run TestScripts -rewrite regenerates the outputs, which then
// need reading: they are the specification.
func TestScripts(t *testing.T) {
	coordtest.RunScripts(t, "testdata/scripts/*.txt", *rewrite, func() coordtest.Exec { return newHarness().exec })
}

var errNames = map[error]string{
	ErrInvalidGroupID:            "INVALID_GROUP_ID",
	ErrCoordinatorNotAvailable:   "COORDINATOR_NOT_AVAILABLE",
	ErrNotCoordinator:            "NOT_COORDINATOR",
	ErrCoordinatorLoadInProgress: "COORDINATOR_LOAD_IN_PROGRESS",
	ErrInvalidSessionTimeout:     "INVALID_SESSION_TIMEOUT",
	ErrUnknownMemberID:           "UNKNOWN_MEMBER_ID",
	ErrMemberIDRequired:          "MEMBER_ID_REQUIRED",
	ErrIllegalGeneration:         "ILLEGAL_GENERATION",
	ErrRebalanceInProgress:       "REBALANCE_IN_PROGRESS",
	ErrInconsistentGroupProtocol: "INCONSISTENT_GROUP_PROTOCOL",
	ErrFencedInstanceID:          "FENCED_INSTANCE_ID",
	ErrGroupMaxSizeReached:       "GROUP_MAX_SIZE_REACHED",
	ErrGroupIDNotFound:           "GROUP_ID_NOT_FOUND",
	ErrNonEmptyGroup:             "NON_EMPTY_GROUP",
	ErrGroupSubscribedToTopic:    "GROUP_SUBSCRIBED_TO_TOPIC",
	ErrOffsetMetadataTooLarge:    "OFFSET_METADATA_TOO_LARGE",
	ErrUnstableOffsetCommit:      "UNSTABLE_OFFSET_COMMIT",
	ErrInvalidCommitOffsetSize:   "INVALID_COMMIT_OFFSET_SIZE",
	// What the log reports, as the loop passes it on.
	errWriteTimeout:  "(write timed out)",
	errWriteTooLarge: "(write too large)",
}

func errName(err error) string {
	if err == nil {
		return "ok"
	}
	for e, name := range errNames {
		if errors.Is(err, e) {
			return name
		}
	}
	return "UNKNOWN_SERVER_ERROR(" + err.Error() + ")"
}

// logged is one batch of the harness's log: records (in a transaction
// when txn is set) or a transaction marker.
type logged struct {
	records []kv
	txn     *txnProducer
	marker  *bool // commit or abort of txn's transaction
}

// scriptStart is the harness clock's origin.
var scriptStart = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

type harness struct {
	cfg     shardConfig
	s       *shard
	now     time.Time
	ids     int
	out     strings.Builder
	hold    bool
	held    []write
	written []logged // every batch written successfully: the log
}

func newHarness() *harness {
	h := &harness{now: scriptStart}
	h.cfg = shardConfig{
		minSession:       time.Second,
		maxSession:       5 * time.Minute,
		initialDelay:     0,
		maxSize:          1000,
		retention:        24 * time.Hour,
		retentionCheck:   10 * time.Minute,
		metadataMaxBytes: 16,
		newMemberID: func(prefix string) string {
			h.ids++
			return fmt.Sprintf("%s-%d", prefix, h.ids)
		},
	}
	h.s = newShard(h.cfg)
	h.s.run(h.now, h.s.startExpiration)
	return h
}

// step runs fn in the shard and completes its writes unless held.
func (h *harness) step(fn func()) {
	h.s.run(h.now, fn)
	h.flushWrites(nil)
}

func (h *harness) flushWrites(err error) {
	for {
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
				h.written = append(h.written, logged{records: w.records, txn: w.txn})
				for _, r := range w.records {
					if w.txn != nil {
						fmt.Fprintf(&h.out, "log: txn %d/%d %s\n", w.txn.id, w.txn.epoch, describeRecord(r))
					} else {
						fmt.Fprintf(&h.out, "log: %s\n", describeRecord(r))
					}
				}
			} else {
				fmt.Fprintf(&h.out, "log: write failed: %s\n", errName(err))
			}
			h.s.run(h.now, func() { w.done(err) })
		}
		err = nil
	}
}

func describeRecord(r kv) string {
	k, err := ParseKey(r.key)
	if err != nil {
		return "bad key: " + err.Error()
	}
	if k.IsOffset() {
		if r.value == nil {
			return fmt.Sprintf("tombstone offset %s %s-%d", k.Group, k.Topic, k.Partition)
		}
		v, err := ParseOffsetValue(r.value)
		if err != nil {
			return "bad offset value: " + err.Error()
		}
		s := fmt.Sprintf("offset %s %s-%d=%d v%d epoch=%d meta=%q committed=+%s", k.Group, k.Topic, k.Partition, v.Offset, v.Version, v.LeaderEpoch, v.Metadata, rel(v.CommitTimestamp))
		if v.ExpireTimestamp >= 0 {
			s += " expires=+" + rel(v.ExpireTimestamp)
		}
		return s
	}
	if r.value == nil {
		return "tombstone group " + k.Group
	}
	v, err := ParseGroupValue(r.value)
	if err != nil {
		return "bad group value: " + err.Error()
	}
	var ms []string
	for _, m := range v.Members {
		s := m.MemberID
		if m.InstanceID != "" {
			s += "(" + m.InstanceID + ")"
		}
		ms = append(ms, s+"="+string(m.Assignment))
	}
	return fmt.Sprintf("group %s gen=%d type=%s proto=%s leader=%s since=+%s members=[%s]", k.Group, v.Generation, v.ProtocolType, v.Protocol, v.Leader, rel(v.CurrentStateTimestamp), strings.Join(ms, " "))
}

func rel(ms int64) string {
	if ms < 0 {
		return "none"
	}
	return time.UnixMilli(ms).Sub(scriptStart).String()
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
	num := func(k string, def int) int {
		v, ok := a[k]
		if !ok {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("%s: %s: %v", line, k, err)
		}
		return n
	}
	optStr := func(k string) *string {
		if v, ok := a[k]; ok {
			return &v
		}
		return nil
	}
	g := a["group"]
	switch cmd {
	case "config":
		h.cfg.initialDelay = dur("initial-delay", h.cfg.initialDelay)
		h.cfg.maxSize = num("max-size", h.cfg.maxSize)
		h.cfg.maxSession = dur("max-session", h.cfg.maxSession)
		h.cfg.retention = dur("retention", h.cfg.retention)
		h.cfg.retentionCheck = dur("retention-check", h.cfg.retentionCheck)
		h.s = newShard(h.cfg)
		h.s.run(h.now, h.s.startExpiration)
	case "join":
		v := num("v", 9)
		req := JoinRequest{
			Group: g, MemberID: a["member"], InstanceID: a["instance"],
			ClientID: or(a["client"], tag), ClientHost: "/127.0.0.1",
			SessionTimeout: dur("session", 10*time.Second), RebalanceTimeout: dur("rebalance", 30*time.Second),
			ProtocolType: a["type"], Protocols: protocols(or(a["protocols"], "range")),
			SupportsSkipAssignment: v >= 9,
		}
		if _, ok := a["type"]; !ok {
			req.ProtocolType = "consumer"
		}
		req.RequireKnownMemberID = v >= 4 && req.InstanceID == ""
		h.step(func() { h.s.join(req, func(r JoinResult) { h.printJoin(tag, r) }) })
	case "sync":
		req := SyncRequest{
			Group: g, MemberID: a["member"], InstanceID: a["instance"], Generation: int32(num("gen", 0)),
			ProtocolType: optStr("ptype"), Protocol: optStr("proto"), Assignments: map[string][]byte{},
		}
		if as := a["assign"]; as != "" {
			for p := range strings.SplitSeq(as, ",") {
				id, asg, _ := strings.Cut(p, ":")
				req.Assignments[id] = []byte(asg)
			}
		}
		h.step(func() {
			h.s.sync(req, func(r SyncResult) {
				if r.Err != nil {
					fmt.Fprintf(&h.out, "%s: sync %s\n", tag, errName(r.Err))
					return
				}
				fmt.Fprintf(&h.out, "%s: sync ok type=%s proto=%s assignment=%q\n", tag, r.ProtocolType, r.Protocol, r.Assignment)
			})
		})
	case "heartbeat":
		req := HeartbeatRequest{Group: g, MemberID: a["member"], InstanceID: a["instance"], Generation: int32(num("gen", 0))}
		h.step(func() { fmt.Fprintf(&h.out, "%s: heartbeat %s\n", tag, errName(h.s.heartbeat(req))) })
	case "leave":
		var ms []LeaveMember
		for p := range strings.SplitSeq(a["members"], ",") {
			id, inst, _ := strings.Cut(p, "/")
			ms = append(ms, LeaveMember{MemberID: id, InstanceID: inst})
		}
		h.step(func() {
			r := h.s.leave(g, ms)
			var per []string
			for i, err := range r.Members {
				per = append(per, ms[i].MemberID+":"+errName(err))
			}
			fmt.Fprintf(&h.out, "%s: leave %s [%s]\n", tag, errName(r.Err), strings.Join(per, " "))
		})
	case "commit":
		req := CommitRequest{Group: g, MemberID: a["member"], InstanceID: a["instance"], Generation: int32(num("gen", -1)), Retention: dur("retention", -1)}
		for p := range strings.SplitSeq(a["offsets"], ",") {
			// topic:partition=offset[:metadata]
			tp, rest, _ := strings.Cut(p, "=")
			off, meta, _ := strings.Cut(rest, ":")
			o, _ := strconv.ParseInt(off, 10, 64)
			req.Offsets = append(req.Offsets, OffsetCommit{TopicPartition: parseTP(tp), Offset: o, LeaderEpoch: 1, Metadata: meta, CommitTimestamp: -1})
		}
		h.step(func() {
			h.s.commit(req, func(errs []error) {
				var per []string
				for i, err := range errs {
					per = append(per, tpString(req.Offsets[i].TopicPartition)+":"+errName(err))
				}
				fmt.Fprintf(&h.out, "%s: commit [%s]\n", tag, strings.Join(per, " "))
			})
		})
	case "txncommit":
		req := TxnCommitRequest{Group: g, TransactionalID: "tx", ProducerID: int64(num("pid", 0)), ProducerEpoch: int16(num("epoch", 0)),
			MemberID: a["member"], InstanceID: a["instance"], Generation: int32(num("gen", -1))}
		for p := range strings.SplitSeq(a["offsets"], ",") {
			tp, off, _ := strings.Cut(p, "=")
			o, _ := strconv.ParseInt(off, 10, 64)
			req.Offsets = append(req.Offsets, OffsetCommit{TopicPartition: parseTP(tp), Offset: o, LeaderEpoch: 1, CommitTimestamp: -1})
		}
		h.step(func() {
			h.s.txnCommit(req, func(errs []error) {
				var per []string
				for i, err := range errs {
					per = append(per, tpString(req.Offsets[i].TopicPartition)+":"+errName(err))
				}
				fmt.Fprintf(&h.out, "%s: txncommit [%s]\n", tag, strings.Join(per, " "))
			})
		})
	case "marker":
		// marker pid=N commit|abort: the transaction coordinator's marker
		// reaches the partition.
		pid := int64(num("pid", 0))
		_, commit := a["commit"]
		h.written = append(h.written, logged{txn: &txnProducer{id: pid}, marker: &commit})
		fmt.Fprintf(&h.out, "log: marker %d commit=%v\n", pid, commit)
		h.step(func() { h.s.completeTxn(pid, commit) })
	case "fetch":
		var tps []TopicPartition
		if ps, ok := a["partitions"]; ok {
			for p := range strings.SplitSeq(ps, ",") {
				tps = append(tps, parseTP(p))
			}
		}
		h.step(func() {
			for _, f := range h.s.fetch(g, tps, a["stable"] == "true") {
				if f.Err != nil {
					fmt.Fprintf(&h.out, "%s %s\n", tpString(f.TopicPartition), errName(f.Err))
					continue
				}
				fmt.Fprintf(&h.out, "%s offset=%d epoch=%d meta=%q\n", tpString(f.TopicPartition), f.Offset, f.LeaderEpoch, f.Metadata)
			}
		})
	case "describe":
		h.step(func() {
			d := h.s.describe(g)
			fmt.Fprintf(&h.out, "%s state=%s type=%s proto=%s\n", d.Group, d.State, d.ProtocolType, d.Protocol)
			for _, m := range d.Members {
				fmt.Fprintf(&h.out, "  %s instance=%s client=%s host=%s metadata=%s assignment=%q\n", m.MemberID, m.InstanceID, m.ClientID, m.ClientHost, showMeta(m.Metadata), m.Assignment)
			}
		})
	case "list":
		h.step(func() {
			ls := h.s.list()
			slices.SortFunc(ls, func(a, b GroupListing) int { return strings.Compare(a.Group, b.Group) })
			for _, l := range ls {
				fmt.Fprintf(&h.out, "%s type=%s state=%s\n", l.Group, l.ProtocolType, l.State)
			}
		})
	case "delete-group":
		h.step(func() {
			h.s.deleteGroup(g, func(err error) { fmt.Fprintf(&h.out, "%s: delete-group %s\n", tag, errName(err)) })
		})
	case "delete-offsets":
		var tps []TopicPartition
		for p := range strings.SplitSeq(a["partitions"], ",") {
			tps = append(tps, parseTP(p))
		}
		h.step(func() {
			h.s.deleteOffsets(g, tps, func(err error, errs []error) {
				var per []string
				for i, e := range errs {
					per = append(per, tpString(tps[i])+":"+errName(e))
				}
				fmt.Fprintf(&h.out, "%s: delete-offsets %s [%s]\n", tag, errName(err), strings.Join(per, " "))
			})
		})
	case "delete-topics":
		topics := map[string]bool{}
		for _, name := range strings.Fields(line)[1:] {
			topics[name] = true
		}
		h.step(func() { h.s.removeTopics(topics) })
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
		h.printState(g)
	case "restart":
		// A new shard replays what was written, as a coordinator loading
		// the partition after a restart or a leader change.
		h.step(h.s.unload)
		l := newLoader()
		for _, batch := range h.written {
			if batch.marker != nil {
				l.endTxn(batch.txn.id, *batch.marker)
				continue
			}
			pid := int64(-1)
			if batch.txn != nil {
				pid = batch.txn.id
			}
			for _, r := range batch.records {
				if err := l.apply(pid, r.key, r.value); err != nil {
					t.Fatalf("replay: %v", err)
				}
			}
		}
		h.s = newShard(h.cfg)
		h.step(func() { l.finish(h.s) })
	default:
		t.Fatalf("unknown command %q", cmd)
	}
	return h.out.String()
}

func (h *harness) printJoin(tag string, r JoinResult) {
	if r.Err != nil {
		fmt.Fprintf(&h.out, "%s: join %s member=%s\n", tag, errName(r.Err), r.MemberID)
		return
	}
	s := fmt.Sprintf("%s: join ok member=%s gen=%d type=%s proto=%s leader=%s", tag, r.MemberID, r.Generation, r.ProtocolType, r.Protocol, r.Leader)
	if r.SkipAssignment {
		s += " skip-assignment"
	}
	if r.Members != nil {
		var ms []string
		for _, m := range r.Members {
			x := m.MemberID
			if m.InstanceID != "" {
				x += "(" + m.InstanceID + ")"
			}
			ms = append(ms, x+"="+showMeta(m.Metadata))
		}
		s += " members=[" + strings.Join(ms, " ") + "]"
	}
	h.out.WriteString(s + "\n")
}

func (h *harness) printState(id string) {
	g := h.s.groups[id]
	if g == nil {
		fmt.Fprintf(&h.out, "%s: none\n", id)
		return
	}
	since := "unknown"
	if !g.stateTime.IsZero() {
		since = "+" + g.stateTime.Sub(scriptStart).String()
	}
	fmt.Fprintf(&h.out, "%s state=%s gen=%d type=%s proto=%s leader=%s since=%s\n", g.id, g.state, g.generation, g.protocolType, g.protocol, g.leader, since)
	for _, m := range g.membersInOrder() {
		var flags []string
		if m.instanceID != "" {
			flags = append(flags, "instance="+m.instanceID)
		}
		if m.join != nil {
			flags = append(flags, "awaiting-join")
		}
		if m.sync != nil {
			flags = append(flags, "awaiting-sync")
		}
		if g.pendingSync[m.id] {
			flags = append(flags, "pending-sync")
		}
		if m.isNew {
			flags = append(flags, "new")
		}
		fmt.Fprintf(&h.out, "  member %s %s assignment=%q\n", m.id, strings.Join(flags, " "), m.assignment)
	}
	var pend []string
	for id := range g.pending {
		pend = append(pend, id)
	}
	slices.Sort(pend)
	for _, id := range pend {
		fmt.Fprintf(&h.out, "  pending %s\n", id)
	}
	var tps []TopicPartition
	for tp := range g.offsets {
		tps = append(tps, tp)
	}
	slices.SortFunc(tps, compareTP)
	for _, tp := range tps {
		o := g.offsets[tp]
		fmt.Fprintf(&h.out, "  offset %s=%d meta=%q\n", tpString(tp), o.Offset, o.Metadata)
	}
}

func protocols(spec string) []Protocol {
	var ps []Protocol
	for p := range strings.SplitSeq(spec, ",") {
		name, meta, ok := strings.Cut(p, ":")
		if !ok {
			meta = name + "-meta"
		}
		md := []byte(meta)
		if ts, ok := strings.CutPrefix(meta, "topics("); ok {
			// A consumer protocol subscription to the topics (t1|t2).
			md = consumerSubscription(strings.Split(strings.TrimSuffix(ts, ")"), "|")...)
		}
		ps = append(ps, Protocol{Name: name, Metadata: md})
	}
	return ps
}

// showMeta prints protocol metadata: a consumer subscription as
// topics(t1|t2), anything else quoted.
func showMeta(b []byte) string {
	if len(b) > 2 && b[0] == 0 && b[1] == 0 {
		if ts, ok := subscriptionTopics(b); ok {
			return "topics(" + strings.Join(ts, "|") + ")"
		}
	}
	return strconv.Quote(string(b))
}

func parseTP(s string) TopicPartition {
	i := strings.LastIndexByte(s, '-')
	p, _ := strconv.Atoi(s[i+1:])
	return TopicPartition{Topic: s[:i], Partition: int32(p)}
}

func tpString(tp TopicPartition) string { return fmt.Sprintf("%s-%d", tp.Topic, tp.Partition) }

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
