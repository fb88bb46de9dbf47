// Command goka runs an unchanged goka processor on Runnel: it counts clicks
// per user in a goka group table and reads the counts back through a goka
// view. goka talks to Runnel through sarama, as it does to Apache Kafka.
//
// The processor is the group "example-counter". It consumes the topic
// "clicks" (key: user, value: page) and keeps one int64 per user in its
// group table, the topic "example-counter-table", which goka creates with
// cleanup.policy=compact. The processor's local state is a cache of that
// topic: a processor started on another machine, or with its state
// directory gone, restores every count from the table topic before it
// processes the next click, and the input offsets it commits to the group
// say where to go on, so no click is counted twice.
//
// Start a single-node Runnel server (Kafka on 127.0.0.1:9092) and, from the
// repository root, in other terminals:
//
//	go run ./cmd/runnel server
//	go run ./examples/goka -mode=generate -n=1000   # create "clicks", emit 1000 clicks
//	go run ./examples/goka -mode=process            # count them; Ctrl-C stops it
//	go run ./examples/goka -mode=view               # print every user's count
//
// Stop the processor, generate more clicks, start it again (with a new
// -state directory, or the default in-memory state) and the view shows the
// counts going on from where they were.
//
// Flags:
//
//	-brokers      comma-separated bootstrap brokers (127.0.0.1:9092)
//	-mode         generate, process or view (process)
//	-clicks       the input topic (clicks)
//	-group        the goka group; its table is <group>-table (example-counter)
//	-partitions   partitions of the clicks topic when generate creates it (4)
//	-replication  replication factor of the topics goka creates (1)
//	-state        directory for the processor's LevelDB state; empty keeps it
//	              in memory and restores it from the table topic at each start
//	-n, -users    generate: how many clicks, spread over how many users (100, 10)
//	-v            log goka's messages to stderr
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/lovoo/goka/storage"
)

// settings say where the example runs and how goka is wired to it.
type settings struct {
	brokers     []string
	clicks      goka.Stream
	group       goka.Group
	partitions  int          // of the clicks topic, when this program creates it
	replication int          // of every topic goka creates
	stateDir    string       // the processor's LevelDB directory; "" = in memory
	logger      *slog.Logger // goka's messages; nil discards them
}

// saramaConfig returns a new sarama configuration for one goka component.
// Every builder gets its own copy because goka writes the client ID and the
// partitioner into the configuration it is handed.
//
// It is goka's default (Kafka 2.0 protocol versions, snappy, acks=1) with
// one change: a group with no committed offset starts at the oldest click
// rather than the newest, so clicks emitted before the first processor
// starts are counted too.
func (s settings) saramaConfig(clientID string) *sarama.Config {
	cfg := goka.DefaultConfig()
	cfg.ClientID = clientID
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	return cfg
}

// topicManagerConfig tells goka how to create the topics it needs: the
// group table is compacted (goka's default for tables), streams keep
// Kafka's default retention of seven days.
func (s settings) topicManagerConfig() *goka.TopicManagerConfig {
	tmc := goka.NewTopicManagerConfig()
	tmc.Table.Replication = s.replication
	tmc.Stream.Replication = s.replication
	tmc.Stream.Retention = 7 * 24 * time.Hour
	tmc.MismatchBehavior = goka.TMConfigMismatchBehaviorFail
	return tmc
}

func (s settings) topicManagerBuilder() goka.TopicManagerBuilder {
	return func(brokers []string) (goka.TopicManager, error) {
		return goka.NewTopicManager(brokers, s.saramaConfig("goka-topic-manager"), s.topicManagerConfig())
	}
}

func (s settings) producerBuilder() goka.ProducerBuilder {
	return func(brokers []string, clientID string, hasher func() hash.Hash32) (goka.Producer, error) {
		cfg := s.saramaConfig(clientID)
		// goka places a key by its own hash, so the emitter, the
		// processor and the view agree on a user's partition.
		cfg.Producer.Partitioner = sarama.NewCustomHashPartitioner(hasher)
		return goka.NewProducer(brokers, cfg)
	}
}

func (s settings) consumerGroupBuilder() goka.ConsumerGroupBuilder {
	return func(brokers []string, group, clientID string) (sarama.ConsumerGroup, error) {
		return sarama.NewConsumerGroup(brokers, group, s.saramaConfig(clientID))
	}
}

func (s settings) consumerBuilder() goka.SaramaConsumerBuilder {
	return func(brokers []string, clientID string) (sarama.Consumer, error) {
		return sarama.NewConsumer(brokers, s.saramaConfig(clientID))
	}
}

func (s settings) storageBuilder() storage.Builder {
	if s.stateDir == "" {
		return storage.MemoryBuilder()
	}
	return storage.DefaultBuilder(s.stateDir)
}

// counter defines the goka group: every click adds one to its user's count
// in the group table.
func counter(clicks goka.Stream, group goka.Group) *goka.GroupGraph {
	return goka.DefineGroup(group,
		goka.Input(clicks, new(codec.String), count),
		goka.Persist(new(codec.Int64)),
	)
}

// count is the processor callback for one click.
func count(ctx goka.Context, _ any) {
	n, _ := ctx.Value().(int64) // nil for a user's first click
	ctx.SetValue(n + 1)
}

// newProcessor creates the counting processor. goka creates the group
// table here if it does not exist yet; the clicks topic must exist. Extra
// options come last and so win (goka's tester replaces every builder).
func newProcessor(s settings, extra ...goka.ProcessorOption) (*goka.Processor, error) {
	opts := []goka.ProcessorOption{
		goka.WithLogger(gokaLogger{s.logger}),
		goka.WithTopicManagerBuilder(s.topicManagerBuilder()),
		goka.WithProducerBuilder(s.producerBuilder()),
		goka.WithConsumerGroupBuilder(s.consumerGroupBuilder()),
		goka.WithConsumerSaramaBuilder(s.consumerBuilder()),
		goka.WithStorageBuilder(s.storageBuilder()),
	}
	return goka.NewProcessor(s.brokers, counter(s.clicks, s.group), append(opts, extra...)...)
}

// newView creates a view of the group table, kept in memory. The table
// topic must exist: start a processor first.
func newView(s settings) (*goka.View, error) {
	return goka.NewView(s.brokers, goka.GroupTable(s.group), new(codec.Int64),
		goka.WithViewLogger(gokaLogger{s.logger}),
		goka.WithViewTopicManagerBuilder(s.topicManagerBuilder()),
		goka.WithViewConsumerSaramaBuilder(s.consumerBuilder()),
		goka.WithViewStorageBuilder(storage.MemoryBuilder()),
	)
}

// newEmitter creates an emitter of clicks.
func newEmitter(s settings) (*goka.Emitter, error) {
	return goka.NewEmitter(s.brokers, s.clicks, new(codec.String),
		goka.WithEmitterLogger(gokaLogger{s.logger}),
		goka.WithEmitterTopicManagerBuilder(s.topicManagerBuilder()),
		goka.WithEmitterProducerBuilder(s.producerBuilder()),
	)
}

// ensureClicks creates the clicks topic with s.partitions partitions
// unless it exists.
func ensureClicks(s settings) (err error) {
	tm, err := s.topicManagerBuilder()(s.brokers)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, tm.Close()) }()
	return tm.EnsureStreamExists(string(s.clicks), s.partitions)
}

// click is one event: user clicked page.
type click struct{ user, page string }

// generatedClick returns the i-th click of the generator: users are
// visited unevenly, so the counts differ from user to user.
func generatedClick(i, users int) click {
	return click{
		user: fmt.Sprintf("user-%d", (i*i+i/3)%users),
		page: fmt.Sprintf("/page/%d", i%7),
	}
}

// emit sends clicks and waits until every one of them is acknowledged.
func emit(s settings, clicks []click) error {
	e, err := newEmitter(s)
	if err != nil {
		return err
	}
	promises := make([]*goka.Promise, 0, len(clicks))
	for _, c := range clicks {
		p, err := e.Emit(c.user, c.page)
		if err != nil {
			return errors.Join(err, e.Finish())
		}
		promises = append(promises, p)
	}
	if err := e.Finish(); err != nil {
		return err
	}
	// Finish has waited for every promise, so each Then below runs at
	// once, in this goroutine.
	var errs []error
	for i, p := range promises {
		p.Then(func(err error) {
			if err != nil {
				errs = append(errs, fmt.Errorf("click %d (user %q): %w", i, clicks[i].user, err))
			}
		})
	}
	return errors.Join(errs...)
}

// tableCounts reads every user's count from a recovered view.
func tableCounts(v *goka.View) (map[string]int64, error) {
	it, err := v.Iterator()
	if err != nil {
		return nil, err
	}
	defer it.Release()
	counts := map[string]int64{}
	for it.Next() {
		val, err := it.Value()
		if err != nil {
			return nil, fmt.Errorf("user %q: %w", it.Key(), err)
		}
		n, ok := val.(int64)
		if !ok {
			return nil, fmt.Errorf("user %q: count is a %T, not an int64", it.Key(), val)
		}
		counts[it.Key()] = n
	}
	return counts, it.Err()
}

// printCounts starts a view, waits until it has read the whole table and
// prints one "user count" line per user.
func printCounts(ctx context.Context, s settings, w io.Writer) error {
	v, err := newView(s)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- v.Run(ctx) }()
	var counts map[string]int64
	select {
	case <-v.WaitRunning(): // every partition recovered to its end offset
		counts, err = tableCounts(v)
	case err = <-done:
		if err == nil {
			err = ctx.Err()
		}
		cancel()
		return err
	}
	cancel()
	err = errors.Join(err, <-done)
	if err != nil {
		return err
	}
	users := slices.Sorted(func(yield func(string) bool) {
		for u := range counts {
			if !yield(u) {
				return
			}
		}
	})
	for _, u := range users {
		fmt.Fprintf(w, "%s %d\n", u, counts[u])
	}
	return nil
}

// process runs the processor until ctx ends.
func process(ctx context.Context, s settings) error {
	p, err := newProcessor(s)
	if err != nil {
		return err
	}
	return p.Run(ctx)
}

// gokaLogger hands goka's messages to slog; a nil logger discards them.
type gokaLogger struct{ l *slog.Logger }

func (g gokaLogger) Print(v ...any)   { g.info(fmt.Sprint(v...)) }
func (g gokaLogger) Println(v ...any) { g.info(fmt.Sprintln(v...)) }
func (g gokaLogger) Printf(format string, v ...any) {
	g.info(fmt.Sprintf(format, v...))
}

func (g gokaLogger) info(msg string) {
	if g.l != nil {
		g.l.Info(strings.TrimSpace(msg))
	}
}

// run parses the flags and runs one mode.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("goka", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		brokers = fs.String("brokers", "127.0.0.1:9092", "comma-separated bootstrap brokers")
		mode    = fs.String("mode", "process", "generate, process or view")
		clicks  = fs.String("clicks", "clicks", "the input topic")
		group   = fs.String("group", "example-counter", "the goka group; its table is <group>-table")
		parts   = fs.Int("partitions", 4, "partitions of the clicks topic when generate creates it")
		repl    = fs.Int("replication", 1, "replication factor of the topics goka creates")
		state   = fs.String("state", "", "directory of the processor's LevelDB state (empty: in memory)")
		n       = fs.Int("n", 100, "generate: how many clicks")
		users   = fs.Int("users", 10, "generate: how many distinct users")
		verbose = fs.Bool("v", false, "log goka's messages to stderr")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	logger := slog.New(slog.DiscardHandler)
	if *verbose {
		logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	s := settings{
		brokers:     strings.Split(*brokers, ","),
		clicks:      goka.Stream(*clicks),
		group:       goka.Group(*group),
		partitions:  *parts,
		replication: *repl,
		stateDir:    *state,
		logger:      logger,
	}
	switch *mode {
	case "generate":
		if *n < 0 || *users < 1 {
			return fmt.Errorf("-n must be at least 0 and -users at least 1 (got %d and %d)", *n, *users)
		}
		if err := ensureClicks(s); err != nil {
			return err
		}
		batch := make([]click, *n)
		for i := range batch {
			batch[i] = generatedClick(i, *users)
		}
		if err := emit(s, batch); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "emitted %d clicks to %s\n", *n, *clicks)
		return nil
	case "process":
		return process(ctx, s)
	case "view":
		return printCounts(ctx, s, stdout)
	default:
		return fmt.Errorf("-mode: want generate, process or view, got %q", *mode)
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "goka:", err)
		os.Exit(1)
	}
}
