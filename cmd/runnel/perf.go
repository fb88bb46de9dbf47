package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const perfSynopsis = "runnel perf produce|consume [flags]"

// runPerf dispatches to the producer and consumer benchmarks, which mirror
// kafka-producer-perf-test.sh and kafka-consumer-perf-test.sh.
func runPerf(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("missing benchmark: produce or consume")
	}
	switch args[0] {
	case "produce", "producer":
		return runPerfProduce(ctx, args[1:], stdout, stderr)
	case "consume", "consumer":
		return runPerfConsume(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprintf(stdout, "Usage: %s\n\nRun 'runnel perf produce --help' or 'runnel perf consume --help' for their flags.\n", perfSynopsis)
		return errHelp
	}
	return usagef("unknown benchmark %q: want produce or consume", args[0])
}

const perfProduceSynopsis = "runnel perf produce --topic T --num-records N --record-size S [--throughput -1] [--acks all] [--producer-props k=v ...] [--bootstrap-server HOST:PORT] [--compare-disk DIR]"

// perfReportInterval is how often the benchmarks print progress, as Kafka's.
const perfReportInterval = 5 * time.Second

// runPerfProduce sends --num-records records of --record-size bytes, printing
// a progress line every 5 s and Kafka's summary with latency percentiles,
// then the raw disk write rate of the same bytes for comparison.
//
// Latency is measured per record from the Produce call to its promise, so it
// includes any wait for buffer space, as in Kafka's tool.
func runPerfProduce(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		bootstrap, topic, acks, producerConfig, compareDisk string
		numRecords, recordSize                              int64
		throughput                                          float64
		producerProps                                       stringList
	)
	fs := newFlagSet("perf produce")
	fs.StringVar(&bootstrap, "bootstrap-server", "", "the Kafka server(s) to connect to (default: bootstrap.servers from --producer-props, else 127.0.0.1:9092)")
	fs.StringVar(&topic, "topic", "", "REQUIRED: the topic to produce to")
	fs.Int64Var(&numRecords, "num-records", 0, "REQUIRED: the number of records to send")
	fs.Int64Var(&recordSize, "record-size", 0, "REQUIRED: the size of each record in bytes")
	fs.Float64Var(&throughput, "throughput", -1, "throttle to about this many records/sec; -1 for no limit")
	fs.StringVar(&acks, "acks", "", "required acks: 0, 1, -1 or all (default: the producer's acks, all)")
	fs.Var(&producerProps, "producer-props", "producer config key=value; several may follow one flag")
	fs.StringVar(&producerConfig, "producer.config", "", "producer config properties file")
	fs.StringVar(&compareDisk, "compare-disk", os.TempDir(), "directory for the raw disk write reference; empty to skip")
	if err := parseFlags(fs, expandMultiValue(args, "producer-props"), perfProduceSynopsis, stdout); err != nil {
		return err
	}
	switch {
	case topic == "":
		return usagef("missing required argument --topic")
	case numRecords <= 0:
		return usagef("--num-records must be a positive number")
	case recordSize <= 0:
		return usagef("--record-size must be a positive number")
	case recordSize > 1<<30:
		return usagef("--record-size must be at most 1 GiB")
	case throughput == 0:
		return usagef("--throughput must be positive, or -1 for no limit")
	}
	overrides, err := parseKeyValues("producer-props", producerProps)
	if err != nil {
		return err
	}
	props, err := clientProps(producerConfig, overrides)
	if err != nil {
		return err
	}
	if acks != "" {
		props["acks"] = acks
	}
	if _, ok := props["client.id"]; !ok {
		props["client.id"] = "perf-producer-client"
	}
	if bootstrap == "" && props["bootstrap.servers"] == "" {
		bootstrap = "127.0.0.1:9092"
	}
	// A record must fit in one batch; grow the batch limit to the record
	// unless the user set it.
	extra := []kgo.Opt{}
	if _, ok := props["batch.size"]; !ok {
		if _, ok := props["max.request.size"]; !ok && recordSize+512 > 1_000_000 {
			extra = append(extra, kgo.ProducerBatchMaxBytes(int32(min(recordSize+512, 1<<30))))
		}
	}
	cl, err := newClient(roleProducer, bootstrap, "", mapPairs(props), stderr, extra...)
	if err != nil {
		return err
	}
	defer cl.Close()

	// One payload of random capital letters is sent for every record, as in
	// Kafka's tool when no payload file is given.
	payload := make([]byte, recordSize)
	for i := range payload {
		payload[i] = byte('A' + rand.IntN(26))
	}

	start := time.Now()
	stats := newProduceStats(start)
	reportCtx, stopReport := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		reportEvery(reportCtx, perfReportInterval, func(now time.Time) {
			fmt.Fprintln(stdout, stats.takeWindow(now).progressLine(now))
		})
	})

	var (
		failed   atomic.Int64
		firstErr atomic.Pointer[error]
	)
	thr := &throttler{perSec: throughput, start: start}
	var sendErr error
	for i := range numRecords {
		if failed.Load() > 0 {
			break
		}
		if sendErr = thr.wait(ctx, i); sendErr != nil {
			break
		}
		sent := time.Now()
		cl.Produce(ctx, &kgo.Record{Topic: topic, Value: payload}, func(r *kgo.Record, err error) {
			if err != nil {
				if failed.Add(1) == 1 {
					firstErr.Store(&err)
				}
				return
			}
			stats.record(time.Since(sent), len(r.Value))
		})
	}
	flushErr := cl.Flush(ctx)
	end := time.Now()
	stopReport()
	wg.Wait()

	if ctx.Err() != nil {
		return nil // interrupted: exit quietly, as the JVM tool does
	}
	if n := failed.Load(); n > 0 {
		return fmt.Errorf("%d records to topic %s failed; first error: %w", n, topic, *firstErr.Load())
	}
	if sendErr != nil {
		return sendErr
	}
	if flushErr != nil {
		return fmt.Errorf("waiting for acknowledgements: %w", flushErr)
	}
	fmt.Fprintln(stdout, stats.summary(end))
	return printDiskReference(ctx, stdout, compareDisk, numRecords*recordSize)
}

// mapPairs turns a property map into pairs for newClient.
func mapPairs(m map[string]string) []keyValue {
	out := make([]keyValue, 0, len(m))
	for k, v := range m {
		out = append(out, keyValue{Key: k, Value: v})
	}
	return out
}

const perfConsumeSynopsis = "runnel perf consume --topic T --messages N [--bootstrap-server HOST:PORT] [--group G] [--timeout MS] [--from-latest] [--show-detailed-stats] [--compare-disk DIR]"

// consumeHeader is kafka-consumer-perf-test's header; detailed progress
// lines start with time and thread id instead of start and end time.
const (
	consumeHeader         = "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec"
	consumeDetailedHeader = "time, threadId, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec"
)

// runPerfConsume reads --messages records in a consumer group from the
// earliest offset and prints kafka-consumer-perf-test's CSV summary, then
// the raw disk write rate of the same bytes for comparison.
func runPerfConsume(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		bootstrap, topic, group, consumerConfig, compareDisk, dateFormat string
		messages, numRecords                                             int64
		timeoutMs, reportingMs, fetchSize                                int
		fromLatest, detailed, hideHeader                                 bool
		consumerProps                                                    stringList
	)
	fs := newFlagSet("perf consume")
	fs.StringVar(&bootstrap, "bootstrap-server", "127.0.0.1:9092", "the Kafka server(s) to connect to")
	fs.StringVar(&topic, "topic", "", "REQUIRED: the topic to consume from")
	fs.Int64Var(&messages, "messages", 0, "REQUIRED: the number of records to consume")
	fs.Int64Var(&numRecords, "num-records", 0, "Kafka 4's spelling of --messages")
	fs.StringVar(&group, "group", "", "the consumer group (default: perf-consumer-NNNNN)")
	fs.IntVar(&timeoutMs, "timeout", 10000, "stop when no record arrives for this many ms")
	fs.IntVar(&fetchSize, "fetch-size", 1048576, "bytes to fetch per partition per request (max.partition.fetch.bytes)")
	fs.BoolVar(&fromLatest, "from-latest", false, "start from the latest offset when the group has none (default: earliest)")
	fs.BoolVar(&detailed, "show-detailed-stats", false, "print progress every --reporting-interval instead of one summary")
	fs.IntVar(&reportingMs, "reporting-interval", 5000, "ms between detailed progress lines")
	fs.BoolVar(&hideHeader, "hide-header", false, "do not print the header line")
	fs.StringVar(&dateFormat, "date-format", "yyyy-MM-dd HH:mm:ss:SSS", "the date format of start.time and end.time (Java SimpleDateFormat letters yMdHmsS)")
	fs.Var(&consumerProps, "consumer-property", "consumer config key=value (repeatable)")
	fs.StringVar(&consumerConfig, "consumer.config", "", "consumer config properties file")
	fs.StringVar(&compareDisk, "compare-disk", os.TempDir(), "directory for the raw disk write reference; empty to skip")
	if err := parseFlags(fs, args, perfConsumeSynopsis, stdout); err != nil {
		return err
	}
	if numRecords > 0 && messages == 0 {
		messages = numRecords
	}
	switch {
	case topic == "":
		return usagef("missing required argument --topic")
	case messages <= 0:
		return usagef("--messages must be a positive number")
	case timeoutMs <= 0 || reportingMs <= 0 || fetchSize <= 0:
		return usagef("--timeout, --reporting-interval and --fetch-size must be positive")
	}
	layout, err := javaDateLayout(dateFormat)
	if err != nil {
		return usagef("%v", err)
	}
	overrides, err := parseKeyValues("consumer-property", consumerProps)
	if err != nil {
		return err
	}
	props, err := clientProps(consumerConfig, overrides)
	if err != nil {
		return err
	}
	if group != "" {
		props["group.id"] = group
	} else if props["group.id"] == "" {
		props["group.id"] = fmt.Sprintf("perf-consumer-%d", rand.IntN(100000))
	}
	if _, ok := props["auto.offset.reset"]; !ok {
		props["auto.offset.reset"] = "earliest"
		if fromLatest {
			props["auto.offset.reset"] = "latest"
		}
	}
	if _, ok := props["max.partition.fetch.bytes"]; !ok {
		props["max.partition.fetch.bytes"] = strconv.Itoa(fetchSize)
	}
	if _, ok := props["client.id"]; !ok {
		props["client.id"] = "perf-consumer-client"
	}
	if err := checkTopicPartition(ctx, mustSeed(bootstrap), topic, -1); err != nil {
		return err
	}
	// Like Kafka's tool, read through a consumer group. A broker without a
	// group coordinator (no JoinGroup in ApiVersions) cannot run one; when
	// no group was asked for, read every partition directly instead.
	consumeOpt := kgo.ConsumeTopics(topic)
	direct, err := directPartitions(ctx, mustSeed(bootstrap), topic)
	if err != nil {
		return err
	}
	if direct != nil && group == "" {
		fmt.Fprintln(stderr, "WARN: the broker has no group coordinator; reading every partition directly, without a group")
		delete(props, "group.id")
		at := kgo.NewOffset().AtStart()
		if fromLatest {
			at = kgo.NewOffset().AtEnd()
		}
		offsets := map[int32]kgo.Offset{}
		for _, p := range direct {
			offsets[p] = at
		}
		consumeOpt = kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets})
	}

	start := time.Now()
	var joined atomic.Int64 // ns after start when partitions were first assigned
	if direct != nil && group == "" {
		joined.Store(1)
	}
	opts := []kgo.Opt{consumeOpt}
	if joined.Load() == 0 {
		opts = append(opts, kgo.OnPartitionsAssigned(func(context.Context, *kgo.Client, map[string][]int32) {
			joined.CompareAndSwap(0, int64(time.Since(start)))
		}))
	}
	cl, err := newClient(roleConsumer, bootstrap, "", mapPairs(props), stderr, opts...)
	if err != nil {
		return err
	}
	defer cl.Close()

	if !hideHeader {
		if detailed {
			fmt.Fprintln(stdout, consumeDetailedHeader)
		} else {
			fmt.Fprintln(stdout, consumeHeader)
		}
	}
	var (
		count, bytes         int64
		lastCount, lastBytes int64
		lastReport           = start
		timedOut             bool
	)
	for count < messages {
		pollCtx, cancel := context.WithTimeout(ctx, time.Duration(timeoutMs)*time.Millisecond)
		fetches := cl.PollRecords(pollCtx, int(min(messages-count, 1<<20)))
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		for _, fe := range fetches.Errors() {
			if !errors.Is(fe.Err, context.DeadlineExceeded) && !errors.Is(fe.Err, context.Canceled) {
				return fetchError(fe)
			}
		}
		if fetches.NumRecords() == 0 && pollCtx.Err() != nil {
			timedOut = true
			break
		}
		fetches.EachRecord(func(r *kgo.Record) {
			count++
			bytes += int64(len(r.Key) + len(r.Value))
		})
		if now := time.Now(); detailed && now.Sub(lastReport) >= time.Duration(reportingMs)*time.Millisecond {
			rebalance := time.Duration(joined.Load())
			fmt.Fprintln(stdout, consumeProgressLine(layout, now, bytes-lastBytes, count-lastCount, now.Sub(lastReport), rebalance))
			lastReport, lastCount, lastBytes = now, count, bytes
		}
	}
	end := time.Now()
	if timedOut {
		fmt.Fprintf(stdout, "WARNING: Exiting before consuming the expected number of messages: timeout (%d ms) exceeded. You can use the --timeout option to increase the timeout.\n", timeoutMs)
	}
	if !detailed {
		rebalance := time.Duration(joined.Load())
		fmt.Fprintln(stdout, consumeSummaryLine(layout, start, end, bytes, count, rebalance))
	}
	return printDiskReference(ctx, stdout, compareDisk, bytes)
}

// mustSeed returns client options that only name the seed brokers, for a
// metadata check before the real client exists.
func mustSeed(bootstrap string) []kgo.Opt {
	return []kgo.Opt{kgo.SeedBrokers(splitList(bootstrap)...)}
}

// consumeSummaryLine renders kafka-consumer-perf-test's result row.
func consumeSummaryLine(layout func(time.Time) string, start, end time.Time, bytes, count int64, rebalance time.Duration) string {
	elapsed := max(end.Sub(start).Seconds(), 1e-9)
	fetch := end.Sub(start) - rebalance
	fetchSecs := max(fetch.Seconds(), 1e-9)
	mb := float64(bytes) / mib
	return fmt.Sprintf("%s, %s, %.4f, %.4f, %d, %.4f, %d, %d, %.4f, %.4f",
		layout(start), layout(end), mb, mb/elapsed, count, float64(count)/elapsed,
		rebalance.Milliseconds(), fetch.Milliseconds(), mb/fetchSecs, float64(count)/fetchSecs)
}

// consumeProgressLine renders one --show-detailed-stats row for the
// interval that just ended.
func consumeProgressLine(layout func(time.Time) string, now time.Time, bytes, count int64, interval, rebalance time.Duration) string {
	secs := max(interval.Seconds(), 1e-9)
	mb := float64(bytes) / mib
	return fmt.Sprintf("%s, %d, %.4f, %.4f, %d, %.4f, %d, %d, %.4f, %.4f",
		layout(now), 0, mb, mb/secs, count, float64(count)/secs,
		rebalance.Milliseconds(), interval.Milliseconds(), mb/secs, float64(count)/secs)
}

// javaDateLayout translates the SimpleDateFormat letters the perf tool uses
// (yyyy MM dd HH mm ss SSS) into a formatting function.
func javaDateLayout(f string) (func(time.Time) string, error) {
	const millis = "\x00"
	r := strings.NewReplacer("yyyy", "2006", "MM", "01", "dd", "02", "HH", "15", "mm", "04", "ss", "05", "SSS", millis)
	layout := r.Replace(f)
	for _, c := range layout {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			return nil, fmt.Errorf("--date-format %q: only the letters yyyy, MM, dd, HH, mm, ss and SSS are supported", f)
		}
	}
	return func(t time.Time) string {
		return strings.ReplaceAll(t.Format(layout), millis, fmt.Sprintf("%03d", t.Nanosecond()/1e6))
	}, nil
}

// directPartitions returns the topic's partitions when the broker cannot
// run consumer groups (it does not advertise JoinGroup), and nil when it
// can.
func directPartitions(ctx context.Context, opts []kgo.Opt, topic string) ([]int32, error) {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	versions, err := adm.ApiVersions(ctx)
	if err != nil {
		return nil, err
	}
	for _, v := range versions {
		if v.Err != nil {
			return nil, v.Err
		}
		if _, _, ok := v.KeyVersions(kmsg.JoinGroup.Int16()); ok {
			return nil, nil
		}
	}
	md, err := adm.Metadata(ctx, topic)
	if err != nil {
		return nil, err
	}
	return md.Topics[topic].Partitions.Numbers(), nil
}
