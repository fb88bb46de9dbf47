package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const transactionsSynopsis = "runnel transactions --bootstrap-server HOST:PORT [--command-config FILE] list|describe|describe-producers|abort|find-hanging [flags]"

// transactionsRequestTimeout bounds each command's requests, retries
// included, as the admin client's default.api.timeout.ms does.
const transactionsRequestTimeout = 60 * time.Second

// findHangingBatch is how many partitions one DescribeProducers request of
// find-hanging asks about, so that a broker with many partitions is not
// sent one giant request (Kafka's tool uses the same size).
const findHangingBatch = 500

// noneColumn is what kafka-transactions.sh prints for a value that is not
// there (no open transaction, no transaction start time).
const noneColumn = "None"

// txnSubcommand is one sub-command of runnel transactions: its flags and
// what it does once they are parsed.
type txnSubcommand struct {
	name    string
	summary string
	// flags registers the sub-command's flags on fs. The function it
	// returns is called after parsing: it validates the flags and returns
	// what runs the sub-command.
	flags func(fs *flag.FlagSet) func() (func(ctx context.Context, t *txnTool) error, error)
}

// txnTool is the state of one runnel transactions run.
type txnTool struct {
	cl     *kgo.Client
	adm    *kadm.Client
	stdout io.Writer
	now    func() time.Time
}

// transactionsCommands returns the sub-commands of runnel transactions, in
// the order kafka-transactions.sh lists them.
func transactionsCommands() []txnSubcommand {
	return []txnSubcommand{
		{name: "list", summary: "list transactions", flags: listTxnFlags},
		{name: "describe", summary: "describe the state of an active transactional-id", flags: describeTxnFlags},
		{name: "describe-producers", summary: "describe the states of active producers for a topic partition", flags: describeProducersFlags},
		{name: "abort", summary: "abort a hanging transaction (requires administrative privileges)", flags: abortTxnFlags},
		{name: "find-hanging", summary: "find hanging transactions", flags: findHangingFlags},
	}
}

// runTransactions is kafka-transactions.sh: it shows the transactional
// state of producers and coordinators and finds and aborts hanging
// transactions (KIP-664).
func runTransactions(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	inv, err := parseTransactionsArgs(args, stdout)
	if err != nil {
		return err
	}
	cl, err := newClient(roleAdmin, inv.bootstrap, inv.commandConfig, nil, stderr, kgo.RetryTimeout(transactionsRequestTimeout))
	if err != nil {
		return err
	}
	defer cl.Close()
	return inv.exec(ctx, &txnTool{cl: cl, adm: kadm.NewClient(cl), stdout: stdout, now: time.Now})
}

// txnInvocation is a parsed runnel transactions command line.
type txnInvocation struct {
	bootstrap, commandConfig string
	command                  string
	exec                     func(ctx context.Context, t *txnTool) error
}

// parseTransactionsArgs parses a runnel transactions command line. The
// connection flags come before the sub-command, as in Kafka; they are also
// accepted after it. --help prints to stdout and returns errHelp; every
// other error is a *usageError.
func parseTransactionsArgs(args []string, stdout io.Writer) (txnInvocation, error) {
	var inv txnInvocation
	global := func(fs *flag.FlagSet, bootstrap, commandConfig *string) {
		fs.StringVar(bootstrap, "bootstrap-server", "", "REQUIRED: hostname and port for the broker to connect to, in the form `host:port` (multiple comma-separated entries can be given)")
		fs.StringVar(commandConfig, "command-config", "", "property `file` containing configs to be passed to the admin client")
	}
	fs := newFlagSet("transactions")
	global(fs, &inv.bootstrap, &inv.commandConfig)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printTransactionsHelp(stdout, fs)
			return inv, errHelp
		}
		return inv, &usageError{msg: err.Error()}
	}
	if fs.NArg() == 0 {
		return inv, usagef("a command is required: list, describe, describe-producers, abort or find-hanging")
	}
	inv.command = fs.Arg(0)
	cmds := transactionsCommands()
	i := slices.IndexFunc(cmds, func(c txnSubcommand) bool { return c.name == inv.command })
	if i < 0 {
		return inv, usagef("unknown command %q: want list, describe, describe-producers, abort or find-hanging", inv.command)
	}
	sfs := newFlagSet("transactions " + inv.command)
	var bootstrap, commandConfig string
	global(sfs, &bootstrap, &commandConfig)
	validate := cmds[i].flags(sfs)
	if err := parseFlags(sfs, fs.Args()[1:], "runnel transactions --bootstrap-server HOST:PORT "+inv.command+" [flags]", stdout); err != nil {
		return inv, err
	}
	if isSet(sfs, "bootstrap-server") {
		inv.bootstrap = bootstrap
	}
	if isSet(sfs, "command-config") {
		inv.commandConfig = commandConfig
	}
	exec, err := validate()
	if err != nil {
		return inv, err
	}
	if strings.TrimSpace(inv.bootstrap) == "" {
		return inv, usagef("--bootstrap-server must be specified")
	}
	inv.exec = exec
	return inv, nil
}

func printTransactionsHelp(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: %s\n\n", transactionsSynopsis)
	fmt.Fprintln(w, "Analyze the transactional state of producers in the cluster; detect and recover from hanging transactions.")
	fmt.Fprintln(w)
	printDefaults(w, fs)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range transactionsCommands() {
		fmt.Fprintf(w, "  %-19s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'runnel transactions <command> --help' for the flags of one command.")
}

// optionalInt is an integer flag that remembers whether it was given.
type optionalInt struct {
	v    int64
	set  bool
	bits int
}

func (o *optionalInt) String() string {
	if o == nil || !o.set {
		return ""
	}
	return strconv.FormatInt(o.v, 10)
}

func (o *optionalInt) Set(s string) error {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, o.bits)
	if err != nil {
		return fmt.Errorf("want an integer of %d bits", o.bits)
	}
	o.v, o.set = v, true
	return nil
}

func intFlag(fs *flag.FlagSet, name string, bits int, usage string) *optionalInt {
	o := &optionalInt{bits: bits}
	fs.Var(o, name, usage)
	return o
}

// partitionFlags are the --topic and --partition flags several
// sub-commands share.
type partitionFlags struct {
	topic     string
	partition *optionalInt
}

func addPartitionFlags(fs *flag.FlagSet, topicUsage string) *partitionFlags {
	p := &partitionFlags{}
	fs.StringVar(&p.topic, "topic", "", topicUsage)
	p.partition = intFlag(fs, "partition", 32, "partition `number`")
	return p
}

// required returns the partition both flags name, or a usage error naming
// the missing one.
func (p *partitionFlags) required(cmd string) (topicPartition, error) {
	if p.topic == "" {
		return topicPartition{}, usagef("%s requires --topic", cmd)
	}
	if !p.partition.set {
		return topicPartition{}, usagef("%s requires --partition", cmd)
	}
	if p.partition.v < 0 {
		return topicPartition{}, usagef("invalid --partition %d: partitions are numbered from 0", p.partition.v)
	}
	return topicPartition{topic: p.topic, partition: int32(p.partition.v)}, nil
}

// printTxnTable prints a table as kafka-transactions.sh does: every cell,
// the header's included, padded with spaces to its column's widest value
// and followed by a tab.
func printTxnTable(w io.Writer, headers []string, rows [][]string) {
	widths := make([]int, len(headers))
	for i, h := range headers {
		widths[i] = len(h)
	}
	for _, r := range rows {
		for i := range widths {
			widths[i] = max(widths[i], len(r[i]))
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		b.Reset()
		for i, c := range cells {
			b.WriteString(c)
			b.WriteString(strings.Repeat(" ", widths[i]-len(c)))
			b.WriteByte('\t')
		}
		b.WriteByte('\n')
		io.WriteString(w, b.String())
	}
	line(headers)
	for _, r := range rows {
		line(r)
	}
}

// list

var listTxnHeaders = []string{"TransactionalId", "Coordinator", "ProducerId", "TransactionState"}

func listTxnFlags(fs *flag.FlagSet) func() (func(context.Context, *txnTool) error, error) {
	duration := intFlag(fs, "duration-filter", 64, "duration (in `millis`) to filter by: if < 0, all transactions will be returned; otherwise, only transactions running longer than this duration will be returned")
	return func() (func(context.Context, *txnTool) error, error) {
		d := int64(-1)
		if duration.set {
			d = duration.v
		}
		return func(ctx context.Context, t *txnTool) error { return t.list(ctx, d) }, nil
	}
}

// list prints every transactional ID of every coordinator. kadm's
// ListTransactions has no duration filter (KIP-994), so the request is
// built here and sent to every broker.
func (t *txnTool) list(ctx context.Context, durationMs int64) error {
	req := kmsg.NewPtrListTransactionsRequest()
	req.DurationFilterMillis = durationMs
	type row struct {
		coordinator int32
		id          string
		producerID  int64
		state       string
	}
	var rows []row
	for _, shard := range t.cl.RequestSharded(ctx, req) {
		if shard.Err != nil {
			return fmt.Errorf("Failed to list transactions: broker %d: %w", shard.Meta.NodeID, shard.Err) //nolint:staticcheck // Kafka's wording
		}
		resp := shard.Resp.(*kmsg.ListTransactionsResponse)
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			return fmt.Errorf("Failed to list transactions: broker %d: %w", shard.Meta.NodeID, err) //nolint:staticcheck // Kafka's wording
		}
		for _, s := range resp.TransactionStates {
			rows = append(rows, row{shard.Meta.NodeID, s.TransactionalID, s.ProducerID, s.TransactionState})
		}
	}
	slices.SortFunc(rows, func(a, b row) int {
		if a.coordinator != b.coordinator {
			return int(a.coordinator - b.coordinator)
		}
		return strings.Compare(a.id, b.id)
	})
	cells := make([][]string, len(rows))
	for i, r := range rows {
		cells[i] = []string{r.id, itoa(r.coordinator), itoa(r.producerID), r.state}
	}
	printTxnTable(t.stdout, listTxnHeaders, cells)
	return nil
}

// describe

var describeTxnHeaders = []string{"CoordinatorId", "TransactionalId", "ProducerId", "ProducerEpoch", "TransactionState",
	"TransactionTimeoutMs", "CurrentTransactionStartTimeMs", "TransactionDurationMs", "TopicPartitions"}

func describeTxnFlags(fs *flag.FlagSet) func() (func(context.Context, *txnTool) error, error) {
	var id string
	fs.StringVar(&id, "transactional-id", "", "REQUIRED: transactional `id`")
	return func() (func(context.Context, *txnTool) error, error) {
		if !isSet(fs, "transactional-id") {
			return nil, usagef("describe requires --transactional-id")
		}
		return func(ctx context.Context, t *txnTool) error { return t.describe(ctx, id) }, nil
	}
}

// describe prints the coordinator's state of one transactional ID.
func (t *txnTool) describe(ctx context.Context, id string) error {
	fail := func(err error) error {
		return fmt.Errorf("Failed to describe transaction state of transactional-id `%s`: %w", id, err) //nolint:staticcheck // Kafka's wording
	}
	described, err := t.adm.DescribeTransactions(ctx, id)
	if err != nil {
		return fail(err)
	}
	d, ok := described[id]
	switch {
	case !ok:
		return fail(errors.New("no coordinator answered for it"))
	case errors.Is(d.Err, kerr.TransactionalIDNotFound):
		return fail(fmt.Errorf("transactional ID %q is not known to its coordinator (broker %d)", id, d.Coordinator))
	case d.Err != nil:
		return fail(d.Err)
	}
	start, duration := noneColumn, noneColumn
	if d.StartTimestamp >= 0 {
		start = itoa(d.StartTimestamp)
		duration = itoa(t.now().UnixMilli() - d.StartTimestamp)
	}
	var tps []string
	for _, tp := range d.Topics.Sorted() {
		for _, p := range tp.Partitions {
			tps = append(tps, topicPartition{topic: tp.Topic, partition: p}.String())
		}
	}
	printTxnTable(t.stdout, describeTxnHeaders, [][]string{{
		itoa(d.Coordinator), id, itoa(d.ProducerID), itoa(d.ProducerEpoch), d.State,
		itoa(d.TimeoutMillis), start, duration, strings.Join(tps, ","),
	}})
	return nil
}

// describe-producers

var describeProducersHeaders = []string{"ProducerId", "ProducerEpoch", "LatestCoordinatorEpoch", "LastSequence", "LastTimestamp", "CurrentTransactionStartOffset"}

func describeProducersFlags(fs *flag.FlagSet) func() (func(context.Context, *txnTool) error, error) {
	brokerID := intFlag(fs, "broker-id", 32, "optional broker `id` to describe the producer state on a specific replica")
	pf := addPartitionFlags(fs, "REQUIRED: `topic` name")
	return func() (func(context.Context, *txnTool) error, error) {
		tp, err := pf.required("describe-producers")
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, t *txnTool) error {
			return t.describeProducers(ctx, tp, brokerID)
		}, nil
	}
}

// producerState is one active producer of a partition as DescribeProducers
// reports it.
type producerState struct {
	tp                    topicPartition
	producerID            int64
	producerEpoch         int32
	coordinatorEpoch      int32
	lastSequence          int32
	lastTimestamp         int64
	currentTxnStartOffset int64 // -1: no open transaction
}

func (t *txnTool) describeProducers(ctx context.Context, tp topicPartition, brokerID *optionalInt) error {
	where := "leader"
	if brokerID.set {
		where = "broker " + itoa(brokerID.v)
	}
	fail := func(err error) error {
		return fmt.Errorf("Failed to describe producers for partition %s on %s: %w", tp, where, err) //nolint:staticcheck // Kafka's wording
	}
	if err := t.checkPartitions(ctx, tp.topic, []int32{tp.partition}); err != nil {
		return fail(err)
	}
	var states map[topicPartition][]producerState
	var err error
	if brokerID.set {
		states, err = t.producersOnBroker(ctx, int32(brokerID.v), []topicPartition{tp})
	} else {
		states, err = t.producersOnLeaders(ctx, []topicPartition{tp})
	}
	if err != nil {
		return fail(err)
	}
	rows := [][]string{}
	for _, p := range states[tp] {
		start := noneColumn
		if p.currentTxnStartOffset >= 0 {
			start = itoa(p.currentTxnStartOffset)
		}
		rows = append(rows, []string{itoa(p.producerID), itoa(p.producerEpoch), itoa(p.coordinatorEpoch),
			itoa(p.lastSequence), itoa(p.lastTimestamp), start})
	}
	printTxnTable(t.stdout, describeProducersHeaders, rows)
	return nil
}

// checkPartitions fails naming the topic or partition when topic does not
// exist or lacks one of partitions, so that the user reads what is wrong
// instead of a retried UNKNOWN_TOPIC_OR_PARTITION.
func (t *txnTool) checkPartitions(ctx context.Context, topic string, partitions []int32) error {
	md, err := t.adm.Metadata(ctx, topic)
	if err != nil {
		return err
	}
	td, ok := md.Topics[topic]
	switch {
	case !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition):
		return fmt.Errorf("topic %s does not exist", topic)
	case td.Err != nil:
		return fmt.Errorf("topic %s: %w", topic, td.Err)
	}
	for _, p := range partitions {
		if _, ok := td.Partitions[p]; !ok {
			return fmt.Errorf("partition %d of topic %s does not exist (the topic has %d partitions)", p, topic, len(td.Partitions))
		}
	}
	return nil
}

// producersOnLeaders describes the producers of partitions on their
// leaders. A partition that fails fails the whole call.
func (t *txnTool) producersOnLeaders(ctx context.Context, tps []topicPartition) (map[topicPartition][]producerState, error) {
	set := make(kadm.TopicsSet)
	for _, tp := range tps {
		set.Add(tp.topic, tp.partition)
	}
	described, err := t.adm.DescribeProducers(ctx, set)
	if err != nil {
		return nil, err
	}
	out := make(map[topicPartition][]producerState, len(tps))
	for _, tp := range tps {
		dp, ok := described[tp.topic].Partitions[tp.partition]
		if !ok {
			return nil, fmt.Errorf("partition %s: no leader answered", tp)
		}
		if dp.Err != nil {
			return nil, fmt.Errorf("partition %s: %w", tp, errWithMessage(dp.Err, dp.ErrMessage))
		}
		var ps []producerState
		for _, p := range dp.ActiveProducers.Sorted() {
			ps = append(ps, producerState{
				tp: tp, producerID: p.ProducerID, producerEpoch: int32(p.ProducerEpoch), coordinatorEpoch: p.CoordinatorEpoch,
				lastSequence: p.LastSequence, lastTimestamp: p.LastTimestamp, currentTxnStartOffset: p.CurrentTxnStartOffset,
			})
		}
		out[tp] = ps
	}
	return out, nil
}

// producersOnBroker describes the producers of partitions on one broker,
// whichever replica it holds. kadm routes DescribeProducers to leaders
// only, so the request is sent here.
func (t *txnTool) producersOnBroker(ctx context.Context, broker int32, tps []topicPartition) (map[topicPartition][]producerState, error) {
	req := kmsg.NewPtrDescribeProducersRequest()
	for _, tp := range tps {
		n := len(req.Topics)
		if n == 0 || req.Topics[n-1].Topic != tp.topic {
			rt := kmsg.NewDescribeProducersRequestTopic()
			rt.Topic = tp.topic
			req.Topics = append(req.Topics, rt)
			n++
		}
		req.Topics[n-1].Partitions = append(req.Topics[n-1].Partitions, tp.partition)
	}
	kresp, err := t.cl.Broker(int(broker)).Request(ctx, req)
	if err != nil {
		return nil, err
	}
	resp := kresp.(*kmsg.DescribeProducersResponse)
	out := make(map[topicPartition][]producerState, len(tps))
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			tp := topicPartition{topic: rt.Topic, partition: rp.Partition}
			if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
				msg := ""
				if rp.ErrorMessage != nil {
					msg = *rp.ErrorMessage
				}
				return nil, fmt.Errorf("partition %s: %w", tp, errWithMessage(err, msg))
			}
			ps := []producerState{}
			for _, p := range rp.ActiveProducers {
				ps = append(ps, producerState{
					tp: tp, producerID: p.ProducerID, producerEpoch: p.ProducerEpoch, coordinatorEpoch: p.CoordinatorEpoch,
					lastSequence: p.LastSequence, lastTimestamp: p.LastTimestamp, currentTxnStartOffset: p.CurrentTxnStartOffset,
				})
			}
			slices.SortFunc(ps, func(a, b producerState) int { return cmp.Compare(a.producerID, b.producerID) })
			out[tp] = ps
		}
	}
	for _, tp := range tps {
		if _, ok := out[tp]; !ok {
			return nil, fmt.Errorf("partition %s: broker %d did not answer for it", tp, broker)
		}
	}
	return out, nil
}

// errWithMessage adds a broker's error message to its error code.
func errWithMessage(err error, msg string) error {
	if msg == "" {
		return err
	}
	return fmt.Errorf("%w (%s)", err, msg)
}

// abort

func abortTxnFlags(fs *flag.FlagSet) func() (func(context.Context, *txnTool) error, error) {
	pf := addPartitionFlags(fs, "REQUIRED: `topic` name")
	startOffset := intFlag(fs, "start-offset", 64, "start `offset` of the transaction to abort (brokers on versions 3.0 and above)")
	producerID := intFlag(fs, "producer-id", 64, "producer `id` (brokers older than 3.0, with --producer-epoch and --coordinator-epoch)")
	producerEpoch := intFlag(fs, "producer-epoch", 16, "producer `epoch` (brokers older than 3.0)")
	coordinatorEpoch := intFlag(fs, "coordinator-epoch", 32, "coordinator `epoch` (brokers older than 3.0)")
	return func() (func(context.Context, *txnTool) error, error) {
		tp, err := pf.required("abort")
		if err != nil {
			return nil, err
		}
		if !startOffset.set && !producerID.set {
			return nil, usagef("the transaction to abort must be identified either with --start-offset (for brokers on 3.0 or above) " +
				"or with --producer-id, --producer-epoch, and --coordinator-epoch (for older brokers)")
		}
		if startOffset.set {
			return func(ctx context.Context, t *txnTool) error { return t.abortAt(ctx, tp, startOffset.v) }, nil
		}
		if !producerEpoch.set {
			return nil, usagef("missing required argument --producer-epoch")
		}
		if !coordinatorEpoch.set {
			return nil, usagef("missing required argument --coordinator-epoch")
		}
		spec := abortSpec{tp: tp, producerID: producerID.v, producerEpoch: int16(producerEpoch.v), coordinatorEpoch: int32(coordinatorEpoch.v)}
		return func(ctx context.Context, t *txnTool) error { return t.abort(ctx, spec) }, nil
	}
}

// abortSpec names the transaction of one partition to abort.
type abortSpec struct {
	tp               topicPartition
	producerID       int64
	producerEpoch    int16
	coordinatorEpoch int32
}

func (s abortSpec) String() string {
	return fmt.Sprintf("{topic=%s, partition=%d, producerId=%d, producerEpoch=%d, coordinatorEpoch=%d}",
		s.tp.topic, s.tp.partition, s.producerID, s.producerEpoch, s.coordinatorEpoch)
}

// abortAt aborts the open transaction that starts at startOffset of tp: the
// partition's leader names its producer, epoch and coordinator epoch.
func (t *txnTool) abortAt(ctx context.Context, tp topicPartition, startOffset int64) error {
	fail := func(err error) error {
		return fmt.Errorf("Failed to validate producer state for partition %s: %w", tp, err) //nolint:staticcheck // Kafka's wording
	}
	if err := t.checkPartitions(ctx, tp.topic, []int32{tp.partition}); err != nil {
		return fail(err)
	}
	states, err := t.producersOnLeaders(ctx, []topicPartition{tp})
	if err != nil {
		return fail(err)
	}
	i := slices.IndexFunc(states[tp], func(p producerState) bool { return p.currentTxnStartOffset == startOffset })
	if i < 0 {
		return fmt.Errorf("Could not find any open transactions starting at offset %d on partition %s", startOffset, tp) //nolint:staticcheck // Kafka's wording
	}
	p := states[tp][i]
	return t.abort(ctx, abortSpec{tp: tp, producerID: p.producerID, producerEpoch: int16(p.producerEpoch), coordinatorEpoch: p.coordinatorEpoch})
}

// abort writes an ABORT marker for spec's producer to the partition's
// leader (KIP-664), which ends the transaction there and lets the last
// stable offset move past it.
func (t *txnTool) abort(ctx context.Context, spec abortSpec) error {
	// A producer whose first transaction hangs has had no marker and so
	// no coordinator epoch (-1); 0 is at most any epoch the partition may
	// have seen, as Kafka's tool reasons.
	spec.coordinatorEpoch = max(spec.coordinatorEpoch, 0)
	fail := func(err error) error {
		return fmt.Errorf("Failed to abort transaction %s: %w", spec, err) //nolint:staticcheck // Kafka's wording
	}
	set := make(kadm.TopicsSet)
	set.Add(spec.tp.topic, spec.tp.partition)
	resps, err := t.adm.WriteTxnMarkers(ctx, kadm.TxnMarkers{
		ProducerID:       spec.producerID,
		ProducerEpoch:    spec.producerEpoch,
		Commit:           false,
		CoordinatorEpoch: spec.coordinatorEpoch,
		Topics:           set,
	})
	if err != nil {
		return fail(err)
	}
	pr, ok := resps[spec.producerID].Topics[spec.tp.topic].Partitions[spec.tp.partition]
	if !ok {
		return fail(errors.New("the partition's leader did not answer for it"))
	}
	if pr.Err != nil {
		return fail(pr.Err)
	}
	return nil
}

// find-hanging

var findHangingHeaders = []string{"Topic", "Partition", "ProducerId", "ProducerEpoch", "CoordinatorEpoch", "StartOffset", "LastTimestamp", "Duration(min)"}

func findHangingFlags(fs *flag.FlagSet) func() (func(context.Context, *txnTool) error, error) {
	brokerID := intFlag(fs, "broker-id", 32, "broker `id` to search for hanging transactions")
	maxTimeout := intFlag(fs, "max-transaction-timeout", 32, "maximum transaction timeout in `minutes` to limit the scope of the search (15 minutes by default)")
	pf := addPartitionFlags(fs, "`topic` name to limit search to (required if --partition is specified)")
	return func() (func(context.Context, *txnTool) error, error) {
		if pf.topic == "" && !brokerID.set {
			return nil, usagef("the find-hanging command requires either --topic or --broker-id to limit the scope of the search")
		}
		if pf.partition.set && pf.topic == "" {
			return nil, usagef("the --partition argument requires --topic to be provided")
		}
		if pf.partition.set && pf.partition.v < 0 {
			return nil, usagef("invalid --partition %d: partitions are numbered from 0", pf.partition.v)
		}
		minutes := int64(15)
		if maxTimeout.set {
			if maxTimeout.v < 0 {
				return nil, usagef("invalid --max-transaction-timeout %d: want a number of minutes, 0 or more", maxTimeout.v)
			}
			minutes = maxTimeout.v
		}
		q := hangingQuery{topic: pf.topic, brokerID: -1, maxTimeout: time.Duration(minutes) * time.Minute}
		if pf.partition.set {
			q.partition = int32(pf.partition.v)
			q.onePartition = true
		}
		if brokerID.set {
			q.brokerID = int32(brokerID.v)
		}
		return func(ctx context.Context, t *txnTool) error { return t.findHanging(ctx, q) }, nil
	}
}

// hangingQuery is the scope of a find-hanging search.
type hangingQuery struct {
	topic        string // "": every topic (then brokerID is set)
	partition    int32
	onePartition bool
	brokerID     int32 // -1: the partitions' leaders
	maxTimeout   time.Duration
}

// findHanging prints the open transactions of the partitions in scope that
// have run longer than the longest transaction timeout and that their
// coordinator does not expect to end: a coordinator that does not know
// the producer ID, or does not list the partition in the transaction it
// is running or completing. Kafka's tool decides the same way.
func (t *txnTool) findHanging(ctx context.Context, q hangingQuery) error {
	tps, err := t.hangingScope(ctx, q)
	if err != nil {
		return err
	}
	var candidates []producerState
	for batch := range slices.Chunk(tps, findHangingBatch) {
		var states map[topicPartition][]producerState
		if q.brokerID >= 0 {
			states, err = t.producersOnBroker(ctx, q.brokerID, batch)
		} else {
			states, err = t.producersOnLeaders(ctx, batch)
		}
		if err != nil {
			where := "their leaders"
			if q.brokerID >= 0 {
				where = "broker " + itoa(q.brokerID)
			}
			return fmt.Errorf("Failed to describe producers for %d partitions on %s: %w", len(batch), where, err) //nolint:staticcheck // Kafka's wording
		}
		now := t.now()
		for _, tp := range batch {
			candidates = append(candidates, openTooLong(states[tp], now, q.maxTimeout)...)
		}
	}

	var ids map[int64]string
	var descs map[string]*kadm.DescribedTransaction
	if len(candidates) > 0 {
		if ids, err = t.transactionalIDs(ctx, candidates); err != nil {
			return err
		}
		if descs, err = t.describeAll(ctx, ids); err != nil {
			return err
		}
	}
	hanging := hangingTransactions(candidates, ids, descs)
	now := t.now()
	rows := make([][]string, len(hanging))
	for i, h := range hanging {
		rows[i] = []string{h.tp.topic, itoa(h.tp.partition), itoa(h.producerID), itoa(h.producerEpoch),
			itoa(h.coordinatorEpoch), itoa(h.currentTxnStartOffset), itoa(h.lastTimestamp),
			itoa(int64(now.Sub(time.UnixMilli(h.lastTimestamp)) / time.Minute))}
	}
	printTxnTable(t.stdout, findHangingHeaders, rows)
	return nil
}

// hangingScope lists the partitions find-hanging searches: the one named,
// those of the topic named, or those of every topic (internal ones too),
// kept to the ones with a replica on the broker when one is named.
func (t *txnTool) hangingScope(ctx context.Context, q hangingQuery) ([]topicPartition, error) {
	if q.onePartition {
		if err := t.checkPartitions(ctx, q.topic, []int32{q.partition}); err != nil {
			return nil, err
		}
		return []topicPartition{{topic: q.topic, partition: q.partition}}, nil
	}
	var md kadm.Metadata
	var err error
	if q.topic != "" {
		md, err = t.adm.Metadata(ctx, q.topic)
	} else {
		md, err = t.adm.Metadata(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("Failed to describe topics: %w", err) //nolint:staticcheck // Kafka's wording
	}
	if q.topic != "" {
		td, ok := md.Topics[q.topic]
		if !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition) {
			return nil, fmt.Errorf("Failed to describe topics: topic %s does not exist", q.topic) //nolint:staticcheck // Kafka's wording
		}
	}
	var tps []topicPartition
	for _, td := range md.Topics.Sorted() {
		if td.Err != nil {
			return nil, fmt.Errorf("Failed to describe topics: topic %s: %w", td.Topic, td.Err) //nolint:staticcheck // Kafka's wording
		}
		for _, pd := range td.Partitions.Sorted() {
			if q.brokerID < 0 || slices.Contains(pd.Replicas, q.brokerID) {
				tps = append(tps, topicPartition{topic: td.Topic, partition: pd.Partition})
			}
		}
	}
	return tps, nil
}

// openTooLong keeps the producers with an open transaction whose last write
// is more than maxTimeout before now: no transaction allowed to run that
// long can still be in progress.
func openTooLong(ps []producerState, now time.Time, maxTimeout time.Duration) []producerState {
	var out []producerState
	for _, p := range ps {
		if p.currentTxnStartOffset >= 0 && now.UnixMilli()-p.lastTimestamp > maxTimeout.Milliseconds() {
			out = append(out, p)
		}
	}
	return out
}

// transactionalIDs asks the coordinators which transactional IDs hold the
// candidates' producer IDs.
func (t *txnTool) transactionalIDs(ctx context.Context, candidates []producerState) (map[int64]string, error) {
	var pids []int64
	for _, c := range candidates {
		if !slices.Contains(pids, c.producerID) {
			pids = append(pids, c.producerID)
		}
	}
	slices.Sort(pids)
	listed, err := t.adm.ListTransactions(ctx, pids, nil)
	if err != nil {
		return nil, fmt.Errorf("Failed to list transactions for %d producers: %w", len(pids), err) //nolint:staticcheck // Kafka's wording
	}
	ids := make(map[int64]string)
	for _, l := range listed.Sorted() {
		if slices.Contains(pids, l.ProducerID) {
			ids[l.ProducerID] = l.TxnID
		}
	}
	return ids, nil
}

// describeAll describes the transactional IDs; an ID its coordinator does
// not know maps to nil.
func (t *txnTool) describeAll(ctx context.Context, ids map[int64]string) (map[string]*kadm.DescribedTransaction, error) {
	descs := make(map[string]*kadm.DescribedTransaction)
	if len(ids) == 0 {
		return descs, nil
	}
	var names []string
	for _, id := range ids {
		names = append(names, id)
	}
	slices.Sort(names)
	described, err := t.adm.DescribeTransactions(ctx, names...)
	fail := func(err error) error {
		return fmt.Errorf("Failed to describe %d transactions: %w", len(names), err) //nolint:staticcheck // Kafka's wording
	}
	if err != nil {
		return nil, fail(err)
	}
	for _, id := range names {
		d, ok := described[id]
		switch {
		case !ok || errors.Is(d.Err, kerr.TransactionalIDNotFound):
			descs[id] = nil
		case d.Err != nil:
			return nil, fail(fmt.Errorf("%s: %w", id, d.Err))
		default:
			descs[id] = &d
		}
	}
	return descs, nil
}

// hangingTransactions keeps the candidates their coordinator will not end:
// those whose producer ID no transactional ID holds, whose transactional
// ID is unknown to its coordinator, or whose partition is not among those
// the coordinator lists for the transaction (it lists every partition of
// an Ongoing transaction and those still awaiting markers while
// PrepareCommit or PrepareAbort). The result is sorted by partition and
// producer ID.
func hangingTransactions(candidates []producerState, ids map[int64]string, descs map[string]*kadm.DescribedTransaction) []producerState {
	var out []producerState
	for _, c := range candidates {
		id, ok := ids[c.producerID]
		if !ok {
			out = append(out, c)
			continue
		}
		d := descs[id]
		if d == nil || d.ProducerID != c.producerID {
			out = append(out, c)
			continue
		}
		if _, listed := d.Topics[c.tp.topic][c.tp.partition]; !listed {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b producerState) int {
		if c := compareTopicPartitions(a.tp, b.tp); c != 0 {
			return c
		}
		return cmp.Compare(a.producerID, b.producerID)
	})
	return out
}

// itoa formats any integer in base 10.
func itoa[T int16 | int32 | int64](v T) string { return strconv.FormatInt(int64(v), 10) }
