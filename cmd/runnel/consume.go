package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const consumeSynopsis = "runnel consume --bootstrap-server HOST:PORT --topic T [--from-beginning] [--partition P --offset O] [--max-messages N] [--group G] [--property print.key=true] [flags]"

// consumeOptions are the flags of runnel consume, named as in
// kafka-console-consumer.sh.
type consumeOptions struct {
	bootstrap, topic, include, group string
	partition                        int
	offset                           string
	fromBeginning                    bool
	maxMessages                      int
	timeoutMs                        int
	isolation                        string
	props, consumerProps             stringList
	consumerConfig, commandConfig    string
	formatterConfig                  string
	keyDeserializer, valueDeser      string
	formatter                        string
	skipOnError                      bool
}

// runConsume is kafka-console-consumer.sh: it prints records of a topic until
// --max-messages are printed, no record arrives for --timeout-ms, or it is
// interrupted, then reports "Processed a total of N messages" on stderr.
//
// Without --group it reads without a consumer group and commits nothing (as
// Kafka's generated console-consumer group effectively does). With --group
// it joins the group and commits the offsets of the records it printed.
func runConsume(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	var o consumeOptions
	fs := newFlagSet("consume")
	fs.StringVar(&o.bootstrap, "bootstrap-server", "", "REQUIRED: the Kafka server(s) to connect to, HOST1:PORT1,HOST2:PORT2")
	fs.StringVar(&o.topic, "topic", "", "the topic to consume")
	fs.StringVar(&o.include, "include", "", "regular expression of the topics to consume, instead of --topic")
	fs.StringVar(&o.group, "group", "", "the consumer group to join; offsets of printed records are committed")
	fs.IntVar(&o.partition, "partition", -1, "the partition to consume (default: all partitions)")
	fs.StringVar(&o.offset, "offset", "latest", "with --partition: the offset to start from, a non-negative number, earliest or latest")
	fs.BoolVar(&o.fromBeginning, "from-beginning", false, "start from the earliest record when there is no committed offset")
	fs.IntVar(&o.maxMessages, "max-messages", -1, "exit after printing this many records; -1 for no limit")
	fs.IntVar(&o.timeoutMs, "timeout-ms", -1, "exit when no record arrives for this many ms; -1 to wait forever")
	fs.StringVar(&o.isolation, "isolation-level", "read_uncommitted", "read_committed or read_uncommitted")
	fs.Var(&o.props, "property", "formatter property key=value, e.g. print.key=true, print.timestamp=true, key.separator=, (repeatable)")
	fs.Var(&o.props, "formatter-property", "Kafka 4's spelling of --property")
	fs.StringVar(&o.formatterConfig, "formatter-config", "", "formatter properties file; --property takes precedence")
	fs.StringVar(&o.keyDeserializer, "key-deserializer", "", "deserializer class for keys, as the key.deserializer formatter property")
	fs.StringVar(&o.valueDeser, "value-deserializer", "", "deserializer class for values, as the value.deserializer formatter property")
	fs.Var(&o.consumerProps, "consumer-property", "consumer config key=value (repeatable)")
	fs.Var(&o.consumerProps, "command-property", "Kafka 4's spelling of --consumer-property")
	fs.StringVar(&o.consumerConfig, "consumer.config", "", "consumer config properties file; --consumer-property takes precedence")
	fs.StringVar(&o.commandConfig, "command-config", "", "Kafka 4's spelling of --consumer.config")
	fs.StringVar(&o.formatter, "formatter", "kafka.tools.DefaultMessageFormatter", "the record formatter; only the default one is available")
	fs.BoolVar(&o.skipOnError, "skip-message-on-error", false, "skip a record that cannot be printed instead of stopping")
	if err := parseFlags(fs, args, consumeSynopsis, stdout); err != nil {
		return err
	}
	start, err := o.validate(isSet(fs, "partition"), isSet(fs, "offset"))
	if err != nil {
		return err
	}
	if o.consumerConfig != "" && o.commandConfig != "" {
		return usagef("options --consumer.config and --command-config cannot be specified together")
	}
	if o.commandConfig != "" {
		o.consumerConfig = o.commandConfig
	}
	var formatProps []keyValue
	if o.formatterConfig != "" {
		m, err := loadProperties(o.formatterConfig)
		if err != nil {
			return err
		}
		formatProps = append(formatProps, sortedPairs(m)...)
	}
	if o.keyDeserializer != "" {
		formatProps = append(formatProps, keyValue{"key.deserializer", o.keyDeserializer})
	}
	if o.valueDeser != "" {
		formatProps = append(formatProps, keyValue{"value.deserializer", o.valueDeser})
	}
	argProps, err := parseKeyValues("property", o.props)
	if err != nil {
		return err
	}
	format, err := newRecordFormatter(append(formatProps, argProps...))
	if err != nil {
		return usagef("%v", err)
	}
	overrides, err := parseKeyValues("consumer-property", o.consumerProps)
	if err != nil {
		return err
	}
	props, err := clientProps(o.consumerConfig, overrides)
	if err != nil {
		return err
	}
	// As kafka-console-consumer.sh: a group named in several places must be
	// the same, and a group cannot be combined with --partition.
	if g, ok := props["group.id"]; ok && o.group != "" && g != o.group {
		return usagef("the group ids provided in different places (directly using '--group', via '--consumer-property', or via '--consumer.config') do not match. Detected group ids: '%s', '%s'", o.group, g)
	}
	if o.group != "" {
		props["group.id"] = o.group
	}
	group := props["group.id"]
	if group != "" && o.partition >= 0 {
		return usagef("options group and partition cannot be specified together")
	}
	if reset, ok := props["auto.offset.reset"]; ok {
		if o.fromBeginning && reset != "earliest" {
			return usagef("can't simultaneously specify --from-beginning and 'auto.offset.reset=%s', please remove one option", reset)
		}
	} else {
		props["auto.offset.reset"] = "latest"
		if o.fromBeginning {
			props["auto.offset.reset"] = "earliest"
		}
	}
	if isSet(fs, "isolation-level") {
		props["isolation.level"] = o.isolation
	}
	if _, ok := props["client.id"]; !ok {
		props["client.id"] = "console-consumer"
	}
	opts, err := clientOptions(roleConsumer, o.bootstrap, props, stderr)
	if err != nil {
		return err
	}

	// Check the topic and partition first: a name typed wrong is an error
	// rather than a consumer that waits forever.
	if o.topic != "" {
		if err := checkTopicPartition(ctx, opts, o.topic, o.partition); err != nil {
			return err
		}
	}

	switch {
	case o.partition >= 0:
		opts = append(opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{o.topic: {int32(o.partition): start}}))
	case o.include != "":
		opts = append(opts, kgo.ConsumeTopics(o.include), kgo.ConsumeRegex())
	default:
		opts = append(opts, kgo.ConsumeTopics(o.topic))
	}
	if group != "" {
		opts = append(opts, kgo.AutoCommitMarks())
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("creating consumer: %w", err)
	}
	defer cl.Close()

	n, err := consumeLoop(ctx, cl, &o, format, group != "", stdout, stderr)
	if group != "" {
		commitCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		if cerr := cl.CommitMarkedOffsets(commitCtx); cerr != nil && err == nil {
			err = fmt.Errorf("committing offsets of group %s: %w", group, cerr)
		}
		cl.LeaveGroupContext(commitCtx) //nolint:errcheck // leaving is best effort, as on close
		cancel()
	}
	if err != nil {
		// One line on failure: the count goes into the error.
		return fmt.Errorf("%w (after %d messages)", err, n)
	}
	fmt.Fprintf(stderr, "Processed a total of %d messages\n", n)
	return nil
}

// validate applies kafka-console-consumer.sh's rules and returns the start
// offset for --partition.
func (o *consumeOptions) validate(partitionSet, offsetSet bool) (kgo.Offset, error) {
	var start kgo.Offset
	if o.bootstrap == "" {
		return start, usagef("missing required argument --bootstrap-server")
	}
	if (o.topic == "") == (o.include == "") {
		return start, usagef("exactly one of --include/--topic is required")
	}
	if partitionSet && o.topic == "" {
		return start, usagef("the topic is required when partition is specified")
	}
	if partitionSet && o.partition < 0 {
		return start, usagef("the partition must be non-negative, got %d", o.partition)
	}
	if offsetSet && !partitionSet {
		return start, usagef("the partition is required when offset is specified")
	}
	if o.fromBeginning && offsetSet {
		return start, usagef("options from-beginning and offset cannot be specified together")
	}
	if partitionSet && o.group != "" {
		return start, usagef("options group and partition cannot be specified together")
	}
	// As in Kafka, a negative --max-messages or --timeout-ms means none.
	o.maxMessages, o.timeoutMs = max(o.maxMessages, 0), max(o.timeoutMs, 0)
	if !strings.HasSuffix(o.formatter, "DefaultMessageFormatter") {
		return start, usagef("formatter %s is not available (only kafka.tools.DefaultMessageFormatter)", o.formatter)
	}
	if _, err := parseIsolation(o.isolation); err != nil {
		return start, usagef("%v", err)
	}
	switch off := strings.ToLower(strings.TrimSpace(o.offset)); {
	case o.fromBeginning || off == "earliest":
		start = kgo.NewOffset().AtStart()
	case off == "latest":
		start = kgo.NewOffset().AtEnd()
	default:
		n, err := strconv.ParseInt(off, 10, 64)
		if err != nil || n < 0 {
			return start, usagef("the provided offset value '%s' is incorrect. Valid values are 'earliest', 'latest', or a non-negative long", o.offset)
		}
		start = kgo.NewOffset().At(n)
	}
	return start, nil
}

// checkTopicPartition fails when the topic (or the given partition of it)
// does not exist. It asks without creating the topic.
func checkTopicPartition(ctx context.Context, opts []kgo.Opt, topic string, partition int) error {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	md, err := kadm.NewClient(cl).Metadata(ctx, topic)
	if err != nil {
		return err
	}
	d, ok := md.Topics[topic]
	if !ok || d.Err != nil {
		if ok && d.Err != nil && !isUnknownTopic(d.Err) {
			return fmt.Errorf("topic %s: %w", topic, d.Err)
		}
		return fmt.Errorf("topic %s does not exist", topic)
	}
	if partition >= 0 {
		if _, ok := d.Partitions[int32(partition)]; !ok {
			return fmt.Errorf("partition %d of topic %s does not exist (the topic has %d partitions)", partition, topic, len(d.Partitions))
		}
	}
	return nil
}

// consumeLoop prints records until a stop condition and returns how many it
// printed.
func consumeLoop(ctx context.Context, cl *kgo.Client, o *consumeOptions, format *recordFormatter, mark bool, stdout, stderr io.Writer) (int, error) {
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	n := 0
	for {
		pollCtx, cancel := ctx, context.CancelFunc(func() {})
		if o.timeoutMs > 0 {
			pollCtx, cancel = context.WithTimeout(ctx, time.Duration(o.timeoutMs)*time.Millisecond)
		}
		limit := 0
		if o.maxMessages > 0 {
			limit = o.maxMessages - n
		}
		fetches := cl.PollRecords(pollCtx, limit)
		cancel()
		if ctx.Err() != nil {
			return n, nil
		}
		for _, fe := range fetches.Errors() {
			switch {
			case errors.Is(fe.Err, context.DeadlineExceeded), errors.Is(fe.Err, context.Canceled):
			case errors.Is(fe.Err, kgo.ErrClientClosed):
				return n, nil
			default:
				return n, fetchError(fe)
			}
		}
		if fetches.NumRecords() == 0 && pollCtx.Err() != nil {
			// No record for --timeout-ms: Kafka's console consumer stops
			// here and still exits with status 0.
			return n, nil
		}
		var err error
		fetches.EachRecord(func(r *kgo.Record) {
			if err != nil || (o.maxMessages > 0 && n >= o.maxMessages) {
				return
			}
			if ferr := format.write(w, r); ferr != nil {
				if !o.skipOnError {
					err = fmt.Errorf("printing record at offset %d of %s-%d: %w", r.Offset, r.Topic, r.Partition, ferr)
					return
				}
				fmt.Fprintf(stderr, "WARN: skipping record at offset %d of %s-%d: %v\n", r.Offset, r.Topic, r.Partition, ferr)
			}
			n++
			if mark {
				cl.MarkCommitRecords(r)
			}
		})
		if ferr := w.Flush(); ferr != nil && err == nil {
			err = ferr
		}
		if err != nil || (o.maxMessages > 0 && n >= o.maxMessages) {
			return n, err
		}
	}
}

// fetchError describes an error from a poll; errors that concern no
// partition (such as failing to join the group) name none.
func fetchError(fe kgo.FetchError) error {
	if fe.Topic == "" {
		return fmt.Errorf("consuming: %w", fe.Err)
	}
	return fmt.Errorf("consuming topic %s partition %d: %w", fe.Topic, fe.Partition, fe.Err)
}

// sortedPairs returns a properties map as pairs in key order.
func sortedPairs(m map[string]string) []keyValue {
	out := mapPairs(m)
	slices.SortFunc(out, func(a, b keyValue) int { return strings.Compare(a.Key, b.Key) })
	return out
}
