package log

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/runnel/runnel/broker/record"
)

// txnOpts is BuilderOptions for a transactional batch of pid.
func txnOpts(pid int64, seq int32) record.BuilderOptions {
	return record.BuilderOptions{PartitionLeaderEpoch: -1, Transactional: true, ProducerID: pid, ProducerEpoch: 0, BaseSequence: seq}
}

// committedView reads the log from its start up to its last stable offset
// as a read_committed consumer does: with the aborted transactions
// AbortedTransactions lists, dropping the batches of a producer from an
// aborted transaction's first offset until its ABORT marker, and skipping
// control batches.
func committedView(t *testing.T, l *Log) []record.Record {
	t.Helper()
	lso := l.HighWatermark()
	if f, ok := l.FirstUnstableOffset(); ok && f < lso {
		lso = f
	}
	queue := l.AbortedTransactions(l.LogStartOffset(), lso)
	sort.SliceStable(queue, func(i, j int) bool { return queue[i].FirstOffset < queue[j].FirstOffset })
	aborting := map[int64]bool{}
	var out []record.Record
	for _, b := range readBatches(t, l) {
		if b.BaseOffset() >= lso {
			break
		}
		for len(queue) > 0 && queue[0].FirstOffset <= b.LastOffset() {
			aborting[queue[0].ProducerID] = true
			queue = queue[1:]
		}
		if b.Attributes().Control() {
			if m, ok, _ := parseMarker(b); ok && m.typ == record.ControlAbort {
				delete(aborting, b.ProducerID())
			}
			continue
		}
		if b.Attributes().Transactional() && aborting[b.ProducerID()] {
			continue
		}
		recs, err := b.DecodeRecords()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, recs...)
	}
	return out
}

// latest maps each key to the value of its last record in recs.
func latest(recs []record.Record) map[string]string {
	m := map[string]string{}
	for _, r := range recs {
		m[string(r.Key)] = string(r.Value)
	}
	return m
}

// markers returns the log's transaction markers of type typ.
func markers(t *testing.T, l *Log, typ record.ControlType) []record.Batch {
	t.Helper()
	var out []record.Batch
	for _, b := range readBatches(t, l) {
		if m, ok, _ := parseMarker(b); ok && b.Attributes().Control() && m.typ == typ {
			out = append(out, b)
		}
	}
	return out
}

func coordMarker(t *testing.T, l *Log, pid int64, typ record.ControlType, ts int64) AppendInfo {
	t.Helper()
	info, err := l.Append(record.ControlBatch(pid, 0, 0, typ, ts), AppendOptions{Origin: OriginCoordinator})
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func rollAndSeal(t *testing.T, l *Log, ts int64) {
	t.Helper()
	if err := l.Roll(); err != nil {
		t.Fatal(err)
	}
	appendKV(t, l, noProducer, ts, kv{"active", val("x")}) // keeps the segment before it closed
	l.SetHighWatermark(l.LogEndOffset())
}

func TestCleanTransactions(t *testing.T) {
	const retention = 1000
	now := time.UnixMilli(10_000)
	type step struct {
		at time.Time // clean time
		// check runs after the clean.
		check func(t *testing.T, l *Log)
	}
	tests := []struct {
		name  string
		build func(t *testing.T, l *Log)
		steps []step
	}{
		{
			name: "aborted records go and supersede nothing; the marker goes after delete.retention.ms",
			build: func(t *testing.T, l *Log) {
				appendKV(t, l, noProducer, 1, kv{"k", val("v1")})
				appendKV(t, l, txnOpts(1, 0), 2, kv{"k", val("aborted")}, kv{"j", val("aborted")})
				coordMarker(t, l, 1, record.ControlAbort, 3)
				appendKV(t, l, noProducer, 4, kv{"z", val("1")})
				// The producer's next transaction: the aborted batch is not
				// its last, which a clean would keep as an empty header.
				appendKV(t, l, txnOpts(1, 2), 5, kv{"q", val("c")})
				coordMarker(t, l, 1, record.ControlCommit, 6)
				rollAndSeal(t, l, 7)
			},
			steps: []step{
				{now, func(t *testing.T, l *Log) {
					got := latest(readLog(t, l))
					if got["k"] != "v1" || got["j"] != "" {
						t.Fatalf("after the clean: %v, want k=v1 kept and the aborted records gone", got)
					}
					ms := markers(t, l, record.ControlAbort)
					if len(ms) != 1 || !ms[0].Attributes().HasDeleteHorizon() || ms[0].FirstTimestamp() != now.UnixMilli()+retention {
						t.Fatalf("abort marker after the first clean: %d markers, want one with delete horizon %d", len(ms), now.UnixMilli()+retention)
					}
					if len(l.AbortedTransactions(0, l.LogEndOffset())) != 1 {
						t.Fatalf("the aborted transaction's entry went while its marker stays")
					}
				}},
				{now.Add(retention*time.Millisecond - time.Millisecond), func(t *testing.T, l *Log) {
					if len(markers(t, l, record.ControlAbort)) != 1 {
						t.Fatalf("the marker went before its delete horizon")
					}
				}},
				{now.Add(retention * time.Millisecond), func(t *testing.T, l *Log) {
					if ms := markers(t, l, record.ControlAbort); len(ms) != 0 {
						t.Fatalf("%d abort markers at the delete horizon, want none", len(ms))
					}
					if got := l.AbortedTransactions(0, l.LogEndOffset()); len(got) != 0 {
						t.Fatalf("entries %+v stay without their marker", got)
					}
					if ms := markers(t, l, record.ControlCommit); len(ms) != 1 || ms[0].Attributes().HasDeleteHorizon() {
						t.Fatalf("the commit marker of a transaction with records: %d", len(ms))
					}
				}},
			},
		},
		{
			name: "a commit marker stays while its transaction has records",
			build: func(t *testing.T, l *Log) {
				appendKV(t, l, txnOpts(2, 0), 1, kv{"a", val("c1")}, kv{"b", val("c1")})
				coordMarker(t, l, 2, record.ControlCommit, 2)
				appendKV(t, l, noProducer, 3, kv{"a", val("v2")})
				rollAndSeal(t, l, 4)
			},
			steps: []step{
				{now, func(t *testing.T, l *Log) {
					got := latest(readLog(t, l))
					if got["a"] != "v2" || got["b"] != "c1" {
						t.Fatalf("after the clean: %v", got)
					}
					ms := markers(t, l, record.ControlCommit)
					if len(ms) != 1 || ms[0].Attributes().HasDeleteHorizon() {
						t.Fatalf("commit marker of a transaction with records left: %d markers, horizon set %v", len(ms), len(ms) == 1 && ms[0].Attributes().HasDeleteHorizon())
					}
					// Now supersede its last record; the producer's next
					// transaction makes its batch no longer its last.
					appendKV(t, l, noProducer, 5, kv{"b", val("v3")})
					appendKV(t, l, txnOpts(2, 2), 6, kv{"n", val("c")})
					coordMarker(t, l, 2, record.ControlCommit, 7)
					rollAndSeal(t, l, 8)
				}},
				{now, func(t *testing.T, l *Log) {
					ms := markers(t, l, record.ControlCommit)
					if len(ms) != 2 || !ms[0].Attributes().HasDeleteHorizon() || ms[1].Attributes().HasDeleteHorizon() {
						t.Fatalf("commit markers: %d, want the emptied transaction's with a delete horizon, the next one's without", len(ms))
					}
					if m, ok, err := parseMarker(ms[0]); !ok || m.typ != record.ControlCommit || ms[0].ProducerID() != 2 {
						t.Fatalf("rewritten marker: %+v %v %v", m, ok, err)
					}
				}},
				{now.Add(retention * time.Millisecond), func(t *testing.T, l *Log) {
					if ms := markers(t, l, record.ControlCommit); len(ms) != 1 || ms[0].BaseOffset() == 2 {
						t.Fatalf("%d commit markers after the horizon, want only the second", len(ms))
					}
				}},
			},
		},
		{
			name: "records of an ongoing transaction are never cleaned",
			build: func(t *testing.T, l *Log) {
				appendKV(t, l, noProducer, 1, kv{"k", val("v1")})
				rollAndSeal(t, l, 2)
				appendKV(t, l, txnOpts(3, 0), 3, kv{"k", val("open")})
				appendKV(t, l, noProducer, 4, kv{"k", val("v2")})
				rollAndSeal(t, l, 5)
			},
			steps: []step{
				{now, func(t *testing.T, l *Log) {
					fuo, ok := l.FirstUnstableOffset()
					c, err := l.Cleanable(0, now)
					if err != nil || !ok || c.FirstUncleanableOffset > fuo {
						t.Fatalf("first uncleanable offset %d past the first unstable offset %d (%v)", c.FirstUncleanableOffset, fuo, err)
					}
					var ks []string
					for _, r := range readLog(t, l) {
						if string(r.Key) == "k" {
							ks = append(ks, string(r.Value))
						}
					}
					if !slices.Equal(ks, []string{"v1", "open", "v2"}) {
						t.Fatalf("records of k with a transaction open: %v", ks)
					}
					coordMarker(t, l, 3, record.ControlCommit, 6)
					rollAndSeal(t, l, 7)
				}},
				{now, func(t *testing.T, l *Log) {
					var ks []string
					for _, r := range readLog(t, l) {
						if string(r.Key) == "k" {
							ks = append(ks, string(r.Value))
						}
					}
					if !slices.Equal(ks, []string{"v2"}) {
						t.Fatalf("records of k once the transaction committed: %v", ks)
					}
				}},
			},
		},
		{
			name: "a producer's last batch stays as an empty header and keeps its marker",
			build: func(t *testing.T, l *Log) {
				appendKV(t, l, txnOpts(5, 0), 1, kv{"a", val("aborted")})
				coordMarker(t, l, 5, record.ControlAbort, 2)
				rollAndSeal(t, l, 3)
			},
			steps: []step{
				{now.Add(10 * retention * time.Millisecond), nil},
				{now.Add(20 * retention * time.Millisecond), func(t *testing.T, l *Log) {
					bs := readBatches(t, l)
					if len(bs) < 2 || bs[0].NumRecords() != 0 || bs[0].ProducerID() != 5 || !bs[0].Attributes().Transactional() {
						t.Fatalf("first batch after cleaning: %d records of producer %d, want producer 5's empty header", bs[0].NumRecords(), bs[0].ProducerID())
					}
					if ms := markers(t, l, record.ControlAbort); len(ms) != 1 || ms[0].Attributes().HasDeleteHorizon() {
						t.Fatalf("abort markers %d, want the one after the kept header, without a horizon", len(ms))
					}
					// Replaying the log finds the transaction ended: the
					// LSO is not held back after a recovery.
					dir := l.Dir()
					if err := l.Close(); err != nil {
						t.Fatal(err)
					}
					re := mustOpen(t, dir, l.Config(), OpenOptions{})
					defer re.Close()
					if f, ok := re.FirstUnstableOffset(); ok {
						t.Fatalf("a transaction is open from %d after recovering the cleaned log", f)
					}
				}},
			},
		},
		{
			name: "interleaved transactions across segments",
			build: func(t *testing.T, l *Log) {
				for i := range 8 {
					pa, pb := int64(10+i), int64(20+i)
					key := string(rune('a' + i%3))
					appendKV(t, l, txnOpts(pa, 0), int64(10*i), kv{key, val("a")})
					appendKV(t, l, txnOpts(pb, 0), int64(10*i+1), kv{key, val("b")})
					appendKV(t, l, noProducer, int64(10*i+2), kv{key + "p", val("p")})
					if i%2 == 0 {
						coordMarker(t, l, pa, record.ControlAbort, int64(10*i+3))
						coordMarker(t, l, pb, record.ControlCommit, int64(10*i+4))
					} else {
						coordMarker(t, l, pb, record.ControlAbort, int64(10*i+3))
						coordMarker(t, l, pa, record.ControlCommit, int64(10*i+4))
					}
					if i%3 == 2 {
						rollAndSeal(t, l, int64(10*i+5))
					}
				}
				rollAndSeal(t, l, 100)
			},
			steps: []step{{now, nil}, {now, nil}, {now.Add(retention * time.Millisecond), nil}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := mustOpen(t, t.TempDir(), Config{Compact: true, DeleteRetentionMs: retention, SegmentBytes: 1 << 20}, OpenOptions{})
			defer l.Close()
			tt.build(t, l)
			for i, s := range tt.steps {
				before := latest(committedView(t, l))
				mustClean(t, newTestCleaner(t, CleanerConfig{}), l, 0, s.at)
				// What a read_committed consumer sees of each key's latest
				// value is what it saw before the clean.
				if after := latest(committedView(t, l)); !mapsEqual(after, before) {
					t.Fatalf("clean %d: read_committed sees %v, saw %v before", i, after, before)
				}
				checkIndexFiles(t, l, l.AbortedTransactions(0, l.LogEndOffset()))
				if s.check != nil {
					s.check(t, l)
				}
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestCleanedTxnIndexSurvivesRestart cleans a log with aborted transactions
// over several segments and checks the replacement segments' .txnindex
// files hold the entries of the segments they replaced, before and after a
// reopen.
func TestCleanedTxnIndexSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Compact: true, SegmentBytes: 700, DeleteRetentionMs: 1 << 40}
	l := mustOpen(t, dir, cfg, OpenOptions{})
	var want []AbortedTxn
	for i := range 10 {
		pid := int64(i + 1)
		first := appendKV(t, l, txnOpts(pid, 0), int64(i), kv{"k", val("t")}, kv{"j", val("t")})[0].Offset
		appendKV(t, l, noProducer, int64(i), kv{"k", bytes.Repeat([]byte("p"), 50)})
		if i%2 == 0 {
			m := coordMarker(t, l, pid, record.ControlAbort, int64(i))
			want = append(want, AbortedTxn{ProducerID: pid, FirstOffset: first, LastOffset: m.FirstOffset, LastStableOffset: m.FirstOffset + 1})
		} else {
			coordMarker(t, l, pid, record.ControlCommit, int64(i))
		}
	}
	rollAndSeal(t, l, 50)
	segs := l.NumSegments()
	// Larger segments from now on: the clean merges the old ones.
	cfg.SegmentBytes = 1 << 20
	if err := l.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	res := mustClean(t, newTestCleaner(t, CleanerConfig{}), l, 0, time.UnixMilli(100))
	if res.Segments < 2 || res.Groups >= res.Segments || l.NumSegments() >= segs {
		t.Fatalf("clean rewrote %d segments into %d; want several merged", res.Segments, res.Groups)
	}
	if got := l.AbortedTransactions(0, l.LogEndOffset()); !slices.Equal(got, want) {
		t.Fatalf("after cleaning: %+v, want %+v", got, want)
	}
	checkIndexFiles(t, l, want)
	view := latest(committedView(t, l))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for _, opts := range []OpenOptions{{CleanShutdown: true}, {}} {
		l = mustOpen(t, dir, cfg, opts)
		l.SetHighWatermark(l.LogEndOffset())
		got := l.AbortedTransactions(0, l.LogEndOffset())
		if opts.CleanShutdown && !slices.Equal(got, want) {
			l.Close()
			t.Fatalf("after a clean shutdown: %+v, want %+v", got, want)
		}
		// Recovery rebuilds the entries from the log, where the clean left
		// no record of these aborted transactions: it may drop their
		// entries, and must not add any.
		for _, e := range got {
			if !slices.Contains(want, e) {
				l.Close()
				t.Fatalf("%+v: entry %+v after reopening, want one of %+v", opts, e, want)
			}
		}
		checkIndexFiles(t, l, got)
		if after := latest(committedView(t, l)); !mapsEqual(after, view) {
			l.Close()
			t.Fatalf("%+v: read_committed sees %v after reopening, saw %v", opts, after, view)
		}
		l.Close()
	}
}

// TestCleanTxnCrashAtEveryStep stops a clean of a log with committed and
// aborted transactions after each of its file system operations in turn,
// reopens the directory as after a crash (re-reading everything, or only
// past a recovery point at the high watermark, which leaves the segments a
// crash swapped in to be rebuilt), and checks that a read_committed
// consumer sees what it saw before, that no transaction is left open, and
// that the aborted transaction index holds no entry that was not there.
func TestCleanTxnCrashAtEveryStep(t *testing.T) {
	cfg := Config{Compact: true, SegmentBytes: 500, IndexIntervalBytes: 60, FileDeleteDelayMs: -1, DeleteRetentionMs: 1 << 40}
	template := filepath.Join(t.TempDir(), "orders-0")
	l := mustOpen(t, template, cfg, OpenOptions{})
	for i := range 12 {
		pid := int64(i%4 + 1)
		key := fmt.Sprint("k", i%3)
		appendKV(t, l, txnOpts(pid, int32(i/4)), int64(i), kv{key, fmt.Appendf(nil, "t%d", i)})
		appendKV(t, l, noProducer, int64(i), kv{fmt.Sprint("p", i%5), val("p")})
		typ := record.ControlCommit
		if i%3 == 1 {
			typ = record.ControlAbort
		}
		coordMarker(t, l, pid, typ, int64(i))
	}
	rollAndSeal(t, l, 100)
	hw := l.LogEndOffset()
	l.SetHighWatermark(hw)
	view := latest(committedView(t, l))
	entries := l.AbortedTransactions(0, hw)
	if len(entries) != 4 || l.NumSegments() < 4 {
		t.Fatalf("setup: %d aborted transactions, %d segments", len(entries), l.NumSegments())
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.SegmentBytes = 1100 // two old segments make one new one
	now := time.UnixMilli(10_000)
	open := func(t *testing.T) (*Log, *crashFS) {
		fs := newCrashFS()
		c := cfg
		c.FS = fs
		l := mustOpen(t, copyDir(t, template), c, OpenOptions{CleanShutdown: true})
		l.SetHighWatermark(hw)
		return l, fs
	}
	ref, fs := open(t)
	fs.arm(-1)
	res := mustClean(t, newTestCleaner(t, CleanerConfig{}), ref, 0, now)
	total := fs.count()
	ref.Close()
	if res.Groups < 2 || res.RecordsRemoved == 0 {
		t.Fatalf("the clean rewrote %d segments into %d removing %d records", res.Segments, res.Groups, res.RecordsRemoved)
	}
	for n := range total {
		for _, opts := range []OpenOptions{{}, {RecoveryPoint: hw}} {
			l, fs := open(t)
			dir := l.Dir()
			fs.arm(n)
			if _, err := newTestCleaner(t, CleanerConfig{}).Clean(t.Context(), l, 0, now); err == nil {
				t.Fatalf("crash after %d of %d operations: Clean did not fail", n, total)
			}
			l.closeFilesForTest()
			re := mustOpen(t, dir, cfg, opts)
			re.SetHighWatermark(hw)
			if f, ok := re.FirstUnstableOffset(); ok {
				t.Fatalf("crash after %d operations, %+v: a transaction is open from %d", n, opts, f)
			}
			if got := latest(committedView(t, re)); !mapsEqual(got, view) {
				t.Fatalf("crash after %d operations, %+v: read_committed sees %v, saw %v", n, opts, got, view)
			}
			for _, e := range re.AbortedTransactions(0, hw) {
				if !slices.Contains(entries, e) {
					t.Fatalf("crash after %d operations, %+v: new entry %+v", n, opts, e)
				}
			}
			noLeftovers(t, dir)
			mustClean(t, newTestCleaner(t, CleanerConfig{}), re, 0, now)
			if got := latest(committedView(t, re)); !mapsEqual(got, view) {
				t.Fatalf("crash after %d operations, %+v: after cleaning again read_committed sees %v, saw %v", n, opts, got, view)
			}
			re.Close()
		}
	}
}

// TestCleanEmptiesProducerBatchInLaterGroup covers a clean whose first
// emptied producer batch lies in a later group than the first, with
// file.delete.delay.ms=0: finding each producer's last batch must not
// read the segments the first group's swap already deleted.
func TestCleanEmptiesProducerBatchInLaterGroup(t *testing.T) {
	cfg := Config{Compact: true, SegmentBytes: 200, FileDeleteDelayMs: -1}
	l := mustOpen(t, t.TempDir(), cfg, OpenOptions{})
	defer l.Close()
	for i := range 4 {
		appendKV(t, l, noProducer, int64(i), kv{"plain", bytes.Repeat([]byte("x"), 60)})
	}
	p7 := func(seq int32) record.BuilderOptions {
		return record.BuilderOptions{PartitionLeaderEpoch: -1, ProducerID: 7, ProducerEpoch: 0, BaseSequence: seq}
	}
	appendKV(t, l, p7(0), 10, kv{"p", bytes.Repeat([]byte("a"), 60)})
	appendKV(t, l, noProducer, 11, kv{"q", bytes.Repeat([]byte("b"), 60)})
	last := appendKV(t, l, p7(1), 12, kv{"p", bytes.Repeat([]byte("c"), 60)})
	rollAndSeal(t, l, 20)
	cfg.SegmentBytes = 450 // two old segments per group
	if err := l.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	res := mustClean(t, newTestCleaner(t, CleanerConfig{}), l, 0, time.UnixMilli(100))
	if res.Groups < 2 {
		t.Fatalf("the clean made %d groups, want several", res.Groups)
	}
	got := latest(readLog(t, l))
	if got["p"] != string(last[0].Value) || got["plain"] == "" || got["q"] == "" {
		t.Fatalf("after the clean: %v", got)
	}
}

// FuzzCleanTransactions runs scripts of transactional and plain appends,
// commits, aborts, rolls, cleans and reopenings on a compacted log. A
// clean or a reopening never changes what a read_committed consumer sees
// nor the first unstable offset; in the end, with every transaction
// decided and the markers' horizons passed, the log holds for each key its
// latest committed or plain record. Seeds are in testdata/fuzz.
func FuzzCleanTransactions(f *testing.F) {
	f.Add([]byte{0x00, 0x08, 0x04, 0x05, 0x02, 0x0b, 0x06, 0x20, 0x03, 0x05, 0x46, 0x07, 0x86})
	f.Add([]byte{0x00, 0x28, 0x01, 0x09, 0x45, 0x03, 0x0a, 0x24, 0x05, 0x06, 0x07, 0x13, 0x06})
	f.Fuzz(func(t *testing.T, script []byte) {
		if len(script) > 300 {
			return
		}
		const retention = 1000
		dir := t.TempDir()
		cfg := Config{Compact: true, SegmentBytes: 400, IndexIntervalBytes: 50, DeleteRetentionMs: retention, FS: newCrashFS()}
		l := mustOpen(t, dir, cfg, OpenOptions{})
		defer func() { l.Close() }()
		c := newTestCleaner(t, CleanerConfig{IOBufferSize: 256})
		now := int64(1_000_000)
		seqs := map[int64]int32{}
		pending := map[int64][]record.Record{} // open transactions' records
		var model []record.Record              // committed and plain records
		check := func(what string, do func()) {
			l.SetHighWatermark(l.LogEndOffset())
			view, fuo := latest(committedView(t, l)), firstUnstable(l)
			do()
			l.SetHighWatermark(l.LogEndOffset())
			if got := latest(committedView(t, l)); !mapsEqual(got, view) {
				t.Fatalf("%s: read_committed sees %v, saw %v", what, got, view)
			}
			if got := firstUnstable(l); got != fuo {
				t.Fatalf("%s: first unstable offset %d, was %d", what, got, fuo)
			}
		}
		for i, b := range script {
			pid := int64(b>>3&3) + 1
			key := fmt.Sprint("k", b>>5)
			switch b & 7 {
			case 0, 1:
				recs := appendKV(t, l, txnOpts(pid, seqs[pid]), now, kv{key, fmt.Appendf(nil, "t%d", i)})
				seqs[pid]++
				pending[pid] = append(pending[pid], recs...)
			case 2:
				coordMarker(t, l, pid, record.ControlCommit, now)
				model = append(model, pending[pid]...)
				delete(pending, pid)
			case 3:
				coordMarker(t, l, pid, record.ControlAbort, now)
				delete(pending, pid)
			case 4:
				model = append(model, appendKV(t, l, noProducer, now, kv{key, fmt.Appendf(nil, "p%d", i)})...)
			case 5:
				if err := l.Roll(); err != nil {
					t.Fatal(err)
				}
			case 6:
				now += int64(b>>3) * retention / 8
				check("clean", func() {
					if _, err := c.Clean(t.Context(), l, 0, time.UnixMilli(now)); err != nil {
						t.Fatal(err)
					}
					checkBatches(t, l)
				})
			case 7:
				check("reopen", func() {
					if err := l.Close(); err != nil {
						t.Fatal(err)
					}
					opts := OpenOptions{}
					if b&0x80 != 0 {
						opts.CleanShutdown = true
					}
					l = mustOpen(t, dir, cfg, opts)
				})
			}
		}
		for _, pid := range slices.Sorted(maps.Keys(pending)) {
			coordMarker(t, l, pid, record.ControlCommit, now)
			model = append(model, pending[pid]...)
		}
		if err := l.Roll(); err != nil {
			t.Fatal(err)
		}
		l.SetHighWatermark(l.LogEndOffset())
		mustClean(t, c, l, 0, time.UnixMilli(now))
		mustClean(t, c, l, 0, time.UnixMilli(now+retention))
		slices.SortFunc(model, func(a, b record.Record) int { return cmp.Compare(a.Offset, b.Offset) })
		want := latest(model)
		if got := latest(committedView(t, l)); !mapsEqual(got, want) {
			t.Fatalf("read_committed sees %v, want %v", got, want)
		}
		var data []record.Record
		for _, b := range readBatches(t, l) {
			if b.Attributes().Control() {
				continue
			}
			recs, err := b.DecodeRecords()
			if err != nil {
				t.Fatal(err)
			}
			data = append(data, recs...)
		}
		if got := latest(data); !mapsEqual(got, want) {
			t.Fatalf("the log holds %v, want %v", got, want)
		}
	})
}
