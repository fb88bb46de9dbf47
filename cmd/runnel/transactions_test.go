package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runnel/runnel/broker/brokertest"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestTransactionsBadFlags(t *testing.T) {
	bs := []string{"--bootstrap-server", "127.0.0.1:1"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", bs, "a command is required: list, describe"},
		{"unknown command", append(bs, "hang"), `unknown command "hang"`},
		{"no bootstrap", []string{"list"}, "--bootstrap-server must be specified"},
		{"unknown flag", append(bs, "list", "--topic", "t"), "flag provided but not defined: -topic"},
		{"positional after command", append(bs, "list", "extra"), `unexpected argument "extra"`},
		{"describe without id", append(bs, "describe"), "describe requires --transactional-id"},
		{"describe-producers without topic", append(bs, "describe-producers", "--partition", "0"), "describe-producers requires --topic"},
		{"describe-producers without partition", append(bs, "describe-producers", "--topic", "t"), "describe-producers requires --partition"},
		{"describe-producers bad partition", append(bs, "describe-producers", "--topic", "t", "--partition", "x"), `invalid value "x" for flag -partition`},
		{"describe-producers negative partition", append(bs, "describe-producers", "--topic", "t", "--partition", "-1"), "invalid --partition -1"},
		{"describe-producers bad broker", append(bs, "describe-producers", "--topic", "t", "--partition", "0", "--broker-id", "99999999999"), `invalid value "99999999999" for flag -broker-id`},
		{"abort without topic", append(bs, "abort", "--partition", "0", "--start-offset", "3"), "abort requires --topic"},
		{"abort without transaction", append(bs, "abort", "--topic", "t", "--partition", "0"), "must be identified either with --start-offset"},
		{"abort without producer epoch", append(bs, "abort", "--topic", "t", "--partition", "0", "--producer-id", "5", "--coordinator-epoch", "0"), "missing required argument --producer-epoch"},
		{"abort without coordinator epoch", append(bs, "abort", "--topic", "t", "--partition", "0", "--producer-id", "5", "--producer-epoch", "0"), "missing required argument --coordinator-epoch"},
		{"abort epoch out of range", append(bs, "abort", "--topic", "t", "--partition", "0", "--producer-id", "5", "--producer-epoch", "40000", "--coordinator-epoch", "0"), `invalid value "40000" for flag -producer-epoch`},
		{"find-hanging without scope", append(bs, "find-hanging"), "requires either --topic or --broker-id"},
		{"find-hanging partition without topic", append(bs, "find-hanging", "--broker-id", "1", "--partition", "0"), "the --partition argument requires --topic"},
		{"find-hanging negative timeout", append(bs, "find-hanging", "--broker-id", "1", "--max-transaction-timeout", "-1"), "invalid --max-transaction-timeout -1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t.Context(), "", append([]string{"transactions"}, tc.args...)...)
			assertOneLineError(t, r, tc.want)
			if r.code != 2 {
				t.Errorf("exit %d, want 2 for a usage error", r.code)
			}
		})
	}
}

func TestTransactionsHelp(t *testing.T) {
	r := mustRun(t, "", "transactions", "--help")
	for _, want := range []string{"--bootstrap-server", "--command-config", "describe-producers", "find-hanging", "abort"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("help lacks %s:\n%s", want, r.stdout)
		}
	}
	r = mustRun(t, "", "transactions", "--bootstrap-server", "x:1", "abort", "--help")
	for _, want := range []string{"--start-offset", "--producer-id", "--coordinator-epoch", "--topic", "--partition"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("abort help lacks %s:\n%s", want, r.stdout)
		}
	}
}

// TestPrintTxnTable pins kafka-transactions.sh's layout: each cell padded
// to its column's widest value and followed by a tab.
func TestPrintTxnTable(t *testing.T) {
	var b bytes.Buffer
	printTxnTable(&b, []string{"Topic", "P"}, [][]string{{"a", "10"}, {"orders-long", "2"}})
	want := "Topic      \tP \t\n" +
		"a          \t10\t\n" +
		"orders-long\t2 \t\n"
	if b.String() != want {
		t.Errorf("table\n%q\nwant\n%q", b.String(), want)
	}
	b.Reset()
	printTxnTable(&b, listTxnHeaders, nil)
	if want := "TransactionalId\tCoordinator\tProducerId\tTransactionState\t\n"; b.String() != want {
		t.Errorf("empty table %q, want the header only %q", b.String(), want)
	}
}

func TestOpenTooLong(t *testing.T) {
	now := time.UnixMilli(10_000_000)
	tp := topicPartition{topic: "orders", partition: 0}
	ps := []producerState{
		{tp: tp, producerID: 1, currentTxnStartOffset: -1, lastTimestamp: 0},                  // no open transaction
		{tp: tp, producerID: 2, currentTxnStartOffset: 5, lastTimestamp: now.UnixMilli()},     // just written
		{tp: tp, producerID: 3, currentTxnStartOffset: 7, lastTimestamp: 10_000_000 - 60_000}, // exactly the timeout
		{tp: tp, producerID: 4, currentTxnStartOffset: 9, lastTimestamp: 10_000_000 - 60_001}, // past it
	}
	tests := []struct {
		timeout time.Duration
		want    []int64
	}{
		{time.Minute, []int64{4}},
		{0, []int64{3, 4}},
		{time.Hour, nil},
	}
	for _, tc := range tests {
		var got []int64
		for _, p := range openTooLong(ps, now, tc.timeout) {
			got = append(got, p.producerID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("timeout %v: producers %v, want %v", tc.timeout, got, tc.want)
		}
	}
}

func TestHangingTransactions(t *testing.T) {
	p0 := topicPartition{topic: "orders", partition: 0}
	p1 := topicPartition{topic: "orders", partition: 1}
	open := func(tp topicPartition, pid int64) producerState {
		return producerState{tp: tp, producerID: pid, currentTxnStartOffset: 3}
	}
	desc := func(pid int64, state string, tps ...topicPartition) *kadm.DescribedTransaction {
		d := &kadm.DescribedTransaction{TxnID: "tx", ProducerID: pid, State: state}
		for _, tp := range tps {
			d.Topics.Add(tp.topic, tp.partition)
		}
		return d
	}
	tests := []struct {
		name       string
		candidates []producerState
		ids        map[int64]string
		descs      map[string]*kadm.DescribedTransaction
		want       []producerState
	}{
		{"none", nil, nil, nil, nil},
		{"no transactional ID holds the producer", []producerState{open(p0, 7)}, map[int64]string{}, nil, []producerState{open(p0, 7)}},
		{"coordinator does not know the ID", []producerState{open(p0, 7)}, map[int64]string{7: "tx"}, map[string]*kadm.DescribedTransaction{"tx": nil}, []producerState{open(p0, 7)}},
		{"ongoing with the partition", []producerState{open(p0, 7)}, map[int64]string{7: "tx"}, map[string]*kadm.DescribedTransaction{"tx": desc(7, "Ongoing", p0)}, nil},
		{"ongoing without the partition", []producerState{open(p0, 7), open(p1, 7)}, map[int64]string{7: "tx"}, map[string]*kadm.DescribedTransaction{"tx": desc(7, "Ongoing", p0)}, []producerState{open(p1, 7)}},
		{"completing and awaiting the marker", []producerState{open(p1, 7)}, map[int64]string{7: "tx"}, map[string]*kadm.DescribedTransaction{"tx": desc(7, "PrepareAbort", p1)}, nil},
		{"complete", []producerState{open(p0, 7)}, map[int64]string{7: "tx"}, map[string]*kadm.DescribedTransaction{"tx": desc(7, "CompleteCommit")}, []producerState{open(p0, 7)}},
		{"ID moved to another producer", []producerState{open(p0, 7)}, map[int64]string{7: "tx"}, map[string]*kadm.DescribedTransaction{"tx": desc(8, "Ongoing", p0)}, []producerState{open(p0, 7)}},
		{"sorted by partition then producer", []producerState{open(p1, 2), open(p0, 9), open(p0, 1)}, nil, nil, []producerState{open(p0, 1), open(p0, 9), open(p1, 2)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := hangingTransactions(tc.candidates, tc.ids, tc.descs)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("hanging %v, want %v", got, tc.want)
			}
		})
	}
}

// txnFixture is a broker with one topic and the clients the transaction
// tests drive it with.
type txnFixture struct {
	t    *testing.T
	srv  *brokertest.Server
	addr string
	adm  *kadm.Client
	node string // the broker's node ID
}

func newTxnFixture(t *testing.T, topic string) *txnFixture {
	t.Helper()
	srv := brokertest.Start(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(srv.Addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	f := &txnFixture{t: t, srv: srv, addr: srv.Addr, adm: kadm.NewClient(cl)}
	if _, err := f.adm.CreateTopic(t.Context(), 1, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	md, err := f.adm.BrokerMetadata(t.Context())
	if err != nil || len(md.Brokers) != 1 {
		t.Fatalf("broker metadata: %v %v", md.Brokers, err)
	}
	f.node = strconv.Itoa(int(md.Brokers[0].NodeID))
	return f
}

// tx runs runnel transactions, which must succeed, and returns its table.
func (f *txnFixture) tx(args ...string) [][]string {
	f.t.Helper()
	return tableRows(mustRun(f.t, "", append([]string{"transactions", "--bootstrap-server", f.addr}, args...)...).stdout)
}

// txFail runs runnel transactions, which must fail with one line naming want.
func (f *txnFixture) txFail(want string, args ...string) {
	f.t.Helper()
	r := runCmd(f.t.Context(), "", append([]string{"transactions", "--bootstrap-server", f.addr}, args...)...)
	assertOneLineError(f.t, r, want)
	if r.code != 1 {
		f.t.Errorf("exit %d, want 1", r.code)
	}
}

// producer returns a transactional producer (transactional.id id) writing
// to topic.
func (f *txnFixture) producer(id, topic string) *kgo.Client {
	f.t.Helper()
	opts := []kgo.Opt{kgo.SeedBrokers(f.addr), kgo.DefaultProduceTopic(topic), kgo.TransactionTimeout(time.Minute)}
	if id != "" {
		opts = append(opts, kgo.TransactionalID(id))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(cl.Close)
	return cl
}

// produce writes values and fails the test unless all are acknowledged.
func (f *txnFixture) produce(cl *kgo.Client, values ...string) {
	f.t.Helper()
	for _, v := range values {
		if err := cl.ProduceSync(f.t.Context(), kgo.StringRecord(v)).FirstErr(); err != nil {
			f.t.Fatalf("producing %q: %v", v, err)
		}
	}
}

func (f *txnFixture) begin(cl *kgo.Client) {
	f.t.Helper()
	if err := cl.BeginTransaction(); err != nil {
		f.t.Fatal(err)
	}
}

func (f *txnFixture) end(cl *kgo.Client, commit kgo.TransactionEndTry) {
	f.t.Helper()
	if err := cl.EndTransaction(f.t.Context(), commit); err != nil {
		f.t.Fatal(err)
	}
}

// producerID returns a producer's ID and epoch as strings.
func (f *txnFixture) producerID(cl *kgo.Client) (string, string) {
	f.t.Helper()
	id, epoch, err := cl.ProducerID(f.t.Context())
	if err != nil {
		f.t.Fatal(err)
	}
	return strconv.FormatInt(id, 10), strconv.Itoa(int(epoch))
}

// lso returns the last stable offset of partition 0 of topic: where a
// read_committed consumer stops.
func (f *txnFixture) lso(topic string) int64 {
	f.t.Helper()
	offs, err := f.adm.ListCommittedOffsets(f.t.Context(), topic)
	if err != nil {
		f.t.Fatal(err)
	}
	o, ok := offs.Lookup(topic, 0)
	if !ok || o.Err != nil {
		f.t.Fatalf("last stable offset of %s-0: %v", topic, o.Err)
	}
	return o.Offset
}

// readCommitted reads partition 0 of topic from the start with
// isolation.level=read_committed until it has n records.
func (f *txnFixture) readCommitted(topic string, n int) []string {
	f.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.addr), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	if err != nil {
		f.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(f.t.Context(), 30*time.Second)
	defer cancel()
	var got []string
	for len(got) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			f.t.Fatalf("read_committed consumer got %q, want %d records: %v", got, n, err)
		}
		fs.EachError(func(_ string, _ int32, err error) { f.t.Fatalf("fetch: %v", err) })
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	return got
}

func TestTransactionsLifecycle(t *testing.T) {
	f := newTxnFixture(t, "orders")
	prod := f.producer("orders-tx", "orders")
	// A committed transaction of two records (offsets 0 and 1, its marker
	// at 2), then an open one from offset 3.
	f.begin(prod)
	f.produce(prod, "a", "b")
	f.end(prod, kgo.TryCommit)
	f.begin(prod)
	f.produce(prod, "c", "d")
	pid, epoch := f.producerID(prod)

	r := mustRun(t, "", "transactions", "--bootstrap-server", f.addr, "list")
	wantList := "TransactionalId\tCoordinator\tProducerId\tTransactionState\t\n" +
		fmt.Sprintf("%-15s\t%-11s\t%-10s\t%-16s\t\n", "orders-tx", f.node, pid, "Ongoing")
	if r.stdout != wantList {
		t.Errorf("list printed\n%q\nwant\n%q", r.stdout, wantList)
	}

	rows := f.tx("describe", "--transactional-id", "orders-tx")
	assertTable(t, rows, [][]string{describeTxnHeaders, {f.node, "orders-tx", pid, epoch, "Ongoing", "60000", "*", "*", "orders-0"}})
	if len(rows) == 2 {
		start, err1 := strconv.ParseInt(rows[1][6], 10, 64)
		dur, err2 := strconv.ParseInt(rows[1][7], 10, 64)
		if err1 != nil || err2 != nil || start <= 0 || dur < 0 {
			t.Errorf("describe start time %q and duration %q, want milliseconds", rows[1][6], rows[1][7])
		}
	}

	// The open transaction starts at offset 3; its producer wrote records
	// with sequences 0 to 3.
	wantProducers := [][]string{describeProducersHeaders, {pid, epoch, "*", "3", "*", "3"}}
	assertTable(t, f.tx("describe-producers", "--topic", "orders", "--partition", "0"), wantProducers)
	assertTable(t, f.tx("describe-producers", "--topic", "orders", "--partition", "0", "--broker-id", f.node), wantProducers)

	// The coordinator runs the transaction on orders-0: it is not hanging,
	// even when any open transaction counts as old enough.
	for _, args := range [][]string{
		{"find-hanging", "--broker-id", f.node, "--max-transaction-timeout", "0"},
		{"find-hanging", "--topic", "orders", "--max-transaction-timeout", "0"},
		{"find-hanging", "--topic", "orders", "--partition", "0", "--max-transaction-timeout", "0"},
		{"find-hanging", "--broker-id", f.node},
	} {
		assertTable(t, f.tx(args...), [][]string{findHangingHeaders})
	}

	f.end(prod, kgo.TryCommit)
	// EndTxn is answered once PrepareCommit is written; the coordinator
	// writes the markers and then CompleteCommit on its own.
	for deadline := time.Now().Add(30 * time.Second); ; {
		rows := f.tx("list")
		if len(rows) != 2 || len(rows[1]) != 4 || rows[1][3] != "PrepareCommit" || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	assertTable(t, f.tx("list"), [][]string{listTxnHeaders, {"orders-tx", f.node, pid, "CompleteCommit"}})
	assertTable(t, f.tx("describe", "--transactional-id", "orders-tx"),
		[][]string{describeTxnHeaders, {f.node, "orders-tx", pid, epoch, "CompleteCommit", "60000", "*", "*"}})
	assertTable(t, f.tx("describe-producers", "--topic", "orders", "--partition", "0"),
		[][]string{describeProducersHeaders, {pid, epoch, "*", "3", "*", "None"}})

	// Errors name what is wrong.
	f.txFail("transactional ID \"nope\" is not known", "describe", "--transactional-id", "nope")
	f.txFail("topic missing does not exist", "describe-producers", "--topic", "missing", "--partition", "0")
	f.txFail("partition 4 of topic orders does not exist", "describe-producers", "--topic", "orders", "--partition", "4")
	f.txFail("Could not find any open transactions starting at offset 3 on partition orders-0", "abort", "--topic", "orders", "--partition", "0", "--start-offset", "3")
	f.txFail("topic missing does not exist", "find-hanging", "--topic", "missing")
}

func TestTransactionsAbort(t *testing.T) {
	f := newTxnFixture(t, "orders")
	plain := f.producer("", "orders")
	prod := f.producer("orders-tx", "orders")
	f.produce(plain, "before") // offset 0
	f.begin(prod)
	f.produce(prod, "open-1", "open-2") // offsets 1 and 2
	f.produce(plain, "after")           // offset 3, behind the open transaction

	if got := f.lso("orders"); got != 1 {
		t.Fatalf("last stable offset %d before the abort, want 1 (the open transaction's start)", got)
	}
	f.txFail("Could not find any open transactions starting at offset 2", "abort", "--topic", "orders", "--partition", "0", "--start-offset", "2")

	r := mustRun(t, "", "transactions", "--bootstrap-server", f.addr, "abort", "--topic", "orders", "--partition", "0", "--start-offset", "1")
	if r.stdout != "" {
		t.Errorf("abort printed %q", r.stdout)
	}
	// The ABORT marker is offset 4; nothing is open any more.
	if got := f.lso("orders"); got != 5 {
		t.Fatalf("last stable offset %d after the abort, want 5", got)
	}
	if got := f.readCommitted("orders", 2); !slices.Equal(got, []string{"before", "after"}) {
		t.Fatalf("read_committed consumer read %q, want before and after without the aborted records", got)
	}
	pid, epoch := f.producerID(prod)
	rows := f.tx("describe-producers", "--topic", "orders", "--partition", "0")
	i := slices.IndexFunc(rows, func(r []string) bool { return r[0] == pid })
	if i < 0 || rows[i][1] != epoch || rows[i][5] != "None" {
		t.Fatalf("after the abort describe-producers shows %q, want producer %s with no open transaction", rows, pid)
	}
}

// TestTransactionsHanging makes a hanging transaction the way one happens:
// the coordinator loses the state of a transaction while the partition
// keeps it open. find-hanging reports it and abort ends it.
func TestTransactionsHanging(t *testing.T) {
	f := newTxnFixture(t, "orders")
	prod := f.producer("orders-tx", "orders")
	f.begin(prod)
	f.produce(prod, "stuck-1", "stuck-2")
	pid, epoch := f.producerID(prod)
	prod.Close()

	f.srv.Stop()
	dirs, err := filepath.Glob(filepath.Join(f.srv.Dir, "__transaction_state-*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no __transaction_state partitions in %s: %v", f.srv.Dir, err)
	}
	for _, d := range dirs {
		if err := os.RemoveAll(d); err != nil {
			t.Fatal(err)
		}
	}
	f.srv.Restart()

	if got := f.lso("orders"); got != 0 {
		t.Fatalf("last stable offset %d, want 0: the transaction should still be open on orders-0", got)
	}
	want := [][]string{findHangingHeaders, {"orders", "0", pid, epoch, "*", "0", "*", "*"}}
	assertTable(t, f.tx("find-hanging", "--broker-id", f.node, "--max-transaction-timeout", "0"), want)
	assertTable(t, f.tx("find-hanging", "--topic", "orders", "--partition", "0", "--max-transaction-timeout", "0"), want)
	// Within the default 15 minutes it may still be a live transaction.
	assertTable(t, f.tx("find-hanging", "--broker-id", f.node), [][]string{findHangingHeaders})

	mustRun(t, "", "transactions", "--bootstrap-server", f.addr, "abort", "--topic", "orders", "--partition", "0", "--start-offset", "0")
	if got := f.lso("orders"); got != 3 {
		t.Fatalf("last stable offset %d after the abort, want 3 (past the marker)", got)
	}
	assertTable(t, f.tx("find-hanging", "--broker-id", f.node, "--max-transaction-timeout", "0"), [][]string{findHangingHeaders})
}

func TestParseTransactionsArgs(t *testing.T) {
	tests := []struct {
		args      string
		bootstrap string
		config    string
		command   string
	}{
		{"--bootstrap-server b:1 list", "b:1", "", "list"},
		{"--bootstrap-server b:1 --command-config a.properties list --duration-filter 100", "b:1", "a.properties", "list"},
		{"list --bootstrap-server b:1", "b:1", "", "list"},
		{"--bootstrap-server a:1 --command-config a.properties list --bootstrap-server b:1", "b:1", "a.properties", "list"},
		{"--command-config a.properties describe --transactional-id tx --bootstrap-server b:1", "b:1", "a.properties", "describe"},
		{"--bootstrap-server b:1 describe-producers --topic t --partition 3 --broker-id 2", "b:1", "", "describe-producers"},
		{"--bootstrap-server b:1 abort --topic t --partition 0 --start-offset 7", "b:1", "", "abort"},
		{"--bootstrap-server b:1 abort --topic t --partition 0 --producer-id 5 --producer-epoch 1 --coordinator-epoch -1", "b:1", "", "abort"},
		{"--bootstrap-server b:1 find-hanging --broker-id 1 --max-transaction-timeout 30", "b:1", "", "find-hanging"},
		{"--bootstrap-server b:1 find-hanging --topic t --partition 0", "b:1", "", "find-hanging"},
	}
	for _, tc := range tests {
		inv, err := parseTransactionsArgs(strings.Fields(tc.args), io.Discard)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if inv.bootstrap != tc.bootstrap || inv.commandConfig != tc.config || inv.command != tc.command || inv.exec == nil {
			t.Errorf("%q parsed as bootstrap %q, config %q, command %q; want %q, %q, %q",
				tc.args, inv.bootstrap, inv.commandConfig, inv.command, tc.bootstrap, tc.config, tc.command)
		}
	}
}

// FuzzParseTransactionsArgs checks that any command line either parses
// into a runnable command with a bootstrap server or is refused as a usage
// error, without panicking.
func FuzzParseTransactionsArgs(f *testing.F) {
	f.Add("--bootstrap-server b:1 abort --topic t --partition 0 --start-offset 7")
	f.Fuzz(func(t *testing.T, s string) {
		inv, err := parseTransactionsArgs(strings.Fields(s), io.Discard)
		var uerr *usageError
		switch {
		case err == nil:
			if inv.exec == nil || strings.TrimSpace(inv.bootstrap) == "" {
				t.Fatalf("%q parsed without a command or bootstrap server: %+v", s, inv)
			}
			if !slices.ContainsFunc(transactionsCommands(), func(c txnSubcommand) bool { return c.name == inv.command }) {
				t.Fatalf("%q parsed as unknown command %q", s, inv.command)
			}
		case errors.Is(err, errHelp), errors.As(err, &uerr):
		default:
			t.Fatalf("%q: error %v is not a usage error", s, err)
		}
	})
}

// TestTransactionsCommandConfig checks that --command-config is read: a
// property the admin client does not know is an error naming it, and a
// known one is used.
func TestTransactionsCommandConfig(t *testing.T) {
	f := newTxnFixture(t, "orders")
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.properties")
	good := filepath.Join(dir, "good.properties")
	if err := os.WriteFile(bad, []byte("bogus.setting=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, []byte("client.id=txn-tool\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.txFail(`unknown admin property "bogus.setting"`, "--command-config", bad, "list")
	f.txFail("missing.properties", "--command-config", filepath.Join(dir, "missing.properties"), "list")
	assertTable(t, f.tx("--command-config", good, "list"), [][]string{listTxnHeaders})
}
