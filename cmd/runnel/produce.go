package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

const produceSynopsis = "runnel produce --bootstrap-server HOST:PORT --topic T [--property parse.key=true] [--producer-property k=v] [flags] < lines"

// produceFlushTimeout bounds how long an interrupted producer waits for the
// records it already accepted.
const produceFlushTimeout = 10 * time.Second

// runProduce is kafka-console-producer.sh: one record per line of standard
// input. It returns at EOF once every record is acknowledged; the first
// record that fails ends the run with an error naming the topic and the
// Kafka error.
func runProduce(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var (
		bootstrap, brokerList, topic     string
		readerConfig, producerConfig     string
		props, producerProps             stringList
		acks, requiredAcks               string
		compression, compressionCodec    string
		linger, timeout                  int64
		batchSize, retries, reqTimeoutMs int
		sync                             bool
	)
	fs := newFlagSet("produce")
	fs.StringVar(&bootstrap, "bootstrap-server", "", "REQUIRED: the Kafka server(s) to connect to, HOST1:PORT1,HOST2:PORT2")
	fs.StringVar(&brokerList, "broker-list", "", "deprecated spelling of --bootstrap-server")
	fs.StringVar(&topic, "topic", "", "REQUIRED: the topic to produce records to")
	fs.Var(&props, "property", "line reader property key=value: parse.key, key.separator, parse.headers, headers.delimiter, headers.separator, headers.key.separator, ignore.error, null.marker (repeatable)")
	fs.StringVar(&readerConfig, "reader-config", "", "properties file for the line reader; --property takes precedence")
	fs.Var(&producerProps, "producer-property", "producer config key=value (repeatable)")
	fs.StringVar(&producerConfig, "producer.config", "", "producer config properties file; --producer-property takes precedence")
	fs.StringVar(&acks, "acks", "-1", "required acks: 0, 1, -1 or all (acks)")
	fs.StringVar(&requiredAcks, "request-required-acks", "-1", "Kafka's spelling of --acks")
	fs.StringVar(&compression, "compression-type", "none", "compression: none, gzip, snappy, lz4 or zstd (compression.type)")
	fs.StringVar(&compressionCodec, "compression-codec", "none", "Kafka's spelling of --compression-type")
	fs.Int64Var(&linger, "linger-ms", 1000, "how long a record may wait for a fuller batch, in ms (linger.ms)")
	fs.Int64Var(&timeout, "timeout", 1000, "Kafka's spelling of --linger-ms")
	fs.IntVar(&batchSize, "batch-size", 0, "maximum bytes in one batch (batch.size); a larger record fails")
	fs.IntVar(&retries, "message-send-max-retries", 0, "retries before a record fails (retries)")
	fs.IntVar(&reqTimeoutMs, "request-timeout-ms", 0, "produce request timeout in ms (request.timeout.ms)")
	fs.BoolVar(&sync, "sync", false, "send each record on its own and wait for its acknowledgement")
	if err := parseFlags(fs, args, produceSynopsis, stdout); err != nil {
		return err
	}
	if bootstrap == "" {
		bootstrap = brokerList
	}
	if bootstrap == "" {
		return usagef("missing required argument --bootstrap-server")
	}
	if topic == "" {
		return usagef("missing required argument --topic")
	}

	readerProps := []keyValue{}
	if readerConfig != "" {
		m, err := loadProperties(readerConfig)
		if err != nil {
			return err
		}
		for k, v := range m {
			readerProps = append(readerProps, keyValue{k, v})
		}
	}
	kvs, err := parseKeyValues("property", props)
	if err != nil {
		return err
	}
	format, err := newLineFormat(append(readerProps, kvs...))
	if err != nil {
		return usagef("%v", err)
	}

	overrides, err := parseKeyValues("producer-property", producerProps)
	if err != nil {
		return err
	}
	pp, err := clientProps(producerConfig, overrides)
	if err != nil {
		return err
	}
	// As in kafka-console-producer.sh: a flag given on the command line wins
	// over a producer property, which wins over the flag's default.
	merge := func(key, value string, flags ...string) {
		given := false
		for _, f := range flags {
			given = given || isSet(fs, f)
		}
		if _, inProps := pp[key]; given || !inProps {
			pp[key] = value
		}
	}
	ackValue := acks
	if isSet(fs, "request-required-acks") && !isSet(fs, "acks") {
		ackValue = requiredAcks
	}
	codec := compression
	if isSet(fs, "compression-codec") && !isSet(fs, "compression-type") {
		codec = compressionCodec
	}
	lingerMs := linger
	if isSet(fs, "timeout") && !isSet(fs, "linger-ms") {
		lingerMs = timeout
	}
	merge("acks", ackValue, "acks", "request-required-acks")
	merge("compression.type", codec, "compression-type", "compression-codec")
	merge("linger.ms", strconv.FormatInt(lingerMs, 10), "linger-ms", "timeout")
	optional := func(key, flagName string, v int) {
		if isSet(fs, flagName) {
			pp[key] = strconv.Itoa(v)
		}
	}
	optional("batch.size", "batch-size", batchSize)
	optional("retries", "message-send-max-retries", retries)
	optional("request.timeout.ms", "request-timeout-ms", reqTimeoutMs)
	if _, ok := pp["client.id"]; !ok {
		pp["client.id"] = "console-producer"
	}
	opts, err := clientOptions(roleProducer, bootstrap, pp, stderr)
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(append(opts, kgo.DefaultProduceTopic(topic))...)
	if err != nil {
		return fmt.Errorf("creating producer: %w", err)
	}
	defer cl.Close()

	p := &lineProducer{cl: cl, topic: topic, format: format, sync: sync}
	if isTerminal(stdin) {
		p.prompt = stdout
	}
	return p.run(ctx, stdin)
}

// lineProducer sends the lines of one input to one topic.
type lineProducer struct {
	cl     *kgo.Client
	topic  string
	format *lineFormat
	sync   bool
	prompt io.Writer // when not nil, ">" is printed before each line is read

	mu       sync.Mutex
	firstErr error // the first failed record, guarded by mu
}

// inputLine is one line read from the input, or the error that ended it.
type inputLine struct {
	text string
	err  error
}

// run reads lines until EOF, a failed record or cancellation.
//
// Lines are read on a separate goroutine so that an interrupt is noticed
// while a terminal read blocks. That goroutine is waited for when the input
// ends; after an interrupt or failure it may stay blocked in a read of
// standard input that cannot be cancelled, and ends with the process.
func (p *lineProducer) run(ctx context.Context, in io.Reader) error {
	lines := make(chan inputLine)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(lines)
		br := bufio.NewReaderSize(in, 64<<10)
		for {
			if p.prompt != nil {
				fmt.Fprint(p.prompt, ">")
			}
			s, err := br.ReadString('\n')
			if s != "" {
				select {
				case lines <- inputLine{text: strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r")}:
				case <-stop:
					return
				}
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					select {
					case lines <- inputLine{err: err}:
					case <-stop:
					}
				}
				return
			}
		}
	})

	lineNo := 0
	var err error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case l, ok := <-lines:
			if !ok {
				break loop
			}
			if l.err != nil {
				err = fmt.Errorf("reading input: %w", l.err)
				break loop
			}
			lineNo++
			var r *kgo.Record
			if r, err = p.format.parse(l.text, lineNo); err != nil {
				break loop
			}
			if err = p.send(ctx, r); err != nil {
				break loop
			}
		}
	}
	close(stop)
	if ctx.Err() == nil && err == nil {
		wg.Wait()
	}

	// Wait for every record already handed to the client, as Kafka's
	// producer does on close, even after an interrupt.
	flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), produceFlushTimeout)
	defer cancel()
	if ferr := p.cl.Flush(flushCtx); ferr != nil && err == nil && ctx.Err() == nil {
		err = fmt.Errorf("waiting for acknowledgements: %w", ferr)
	}
	if err != nil {
		return err
	}
	return p.failure()
}

// send produces one record, synchronously with --sync.
func (p *lineProducer) send(ctx context.Context, r *kgo.Record) error {
	r.Topic = p.topic
	if p.sync {
		if err := p.cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			return sendError(r, err)
		}
		return nil
	}
	if err := p.failure(); err != nil {
		return err
	}
	p.cl.Produce(ctx, r, func(r *kgo.Record, err error) {
		if err == nil {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.firstErr == nil {
			p.firstErr = sendError(r, err)
		}
	})
	return nil
}

// failure returns the first record error seen by a promise.
func (p *lineProducer) failure() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.firstErr
}

// sendError describes a failed record as Kafka's ErrorLoggingCallback does.
func sendError(r *kgo.Record, err error) error {
	size := func(b []byte) string {
		if b == nil {
			return "null"
		}
		return fmt.Sprintf("%d bytes", len(b))
	}
	return fmt.Errorf("error when sending message to topic %s with key: %s, value: %s with error: %w",
		r.Topic, size(r.Key), size(r.Value), err)
}

// isTerminal reports whether r is an interactive terminal, where Kafka's
// console producer prints a ">" prompt.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
