// Package streamstest runs a Runnel Streams topology without a broker, the
// way Kafka's TopologyTestDriver does: tests pipe records with chosen
// timestamps into input topics, advance a simulated wall clock, read what
// the topology wrote to output topics, and inspect state stores.
//
// As in Kafka, stores of the DSL are cached (statestore.cache.max.bytes,
// default 10 MiB; "0" turns caching off), so an aggregation reports each
// key it updated while processing one input record once, at the commit
// that follows it.
//
// The driver runs one task per sub-topology, all on partition 0. Persistent
// stores live under the state.dir property, or a temporary directory the
// driver removes on Close. After each
// input record it processes the records the topology wrote to topics it
// also reads (repartition topics loop back in memory), fires the stream-time
// punctuators that are due, and commits every task, which flushes stores
// and suppression buffers. Nothing runs in the background; every call
// returns once all the work it caused is done.
package streamstest

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/runnel/runnel/state"
	"github.com/runnel/runnel/streams"
)

// ErrNoRecord is returned when reading from an output topic with no
// records left.
var ErrNoRecord = errors.New("streamstest: no record in the output topic")

// ErrUnknownTopic is returned when piping into a topic no source reads.
var ErrUnknownTopic = errors.New("streamstest: topic is not read by the topology")

// ErrConfig is returned (wrapped) for a bad or unknown property.
var ErrConfig = errors.New("streamstest: config")

// knownProps are the properties NewDriver accepts; those it does not act on
// are accepted so the same property files work for the real runtime.
var knownProps = map[string]bool{
	"application.id":              true,
	"bootstrap.servers":           true,
	"state.dir":                   true,
	"commit.interval.ms":          true,
	"statestore.cache.max.bytes":  true,
	"cache.max.bytes.buffering":   true,
	"processing.guarantee":        true,
	"num.stream.threads":          true,
	"default.key.serde":           true,
	"default.value.serde":         true,
	"default.timestamp.extractor": true,

	"default.deserialization.exception.handler": true,
	"deserialization.exception.handler":         true,
}

// Option configures a Driver beyond its properties.
type Option func(*Driver)

// WithWallClock sets the simulated wall clock's start (default: the epoch).
func WithWallClock(t time.Time) Option { return func(d *Driver) { d.wallClock = t.UnixMilli() } }

// WithTimestampExtractor sets the default timestamp extractor.
func WithTimestampExtractor(x streams.TimestampExtractor) Option {
	return func(d *Driver) { d.tsx = x }
}

// WithDeserializationExceptionHandler sets the handler for input records
// the sources cannot decode (default streams.LogAndFail).
func WithDeserializationExceptionHandler(h streams.DeserializationExceptionHandler) Option {
	return func(d *Driver) { d.onDeser = h }
}

// WithLogger sets the logger handed to tasks.
func WithLogger(l *slog.Logger) Option { return func(d *Driver) { d.log = l } }

// Driver runs a topology in memory. It is not safe for concurrent use.
type Driver struct {
	topo      *streams.Topology
	appID     string
	wallClock int64
	tsx       streams.TimestampExtractor
	onDeser   streams.DeserializationExceptionHandler
	log       *slog.Logger

	tasks     []*streams.Task
	global    *streams.Task
	readers   map[string]*streams.Task // runtime topic -> task reading it
	outputs   map[string][]streams.OutputRecord
	pending   []streams.OutputRecord
	offsets   map[string]int64
	collector collector
	closed    bool
	stateDir  string
	tempDir   string
	// cacheBytes is statestore.cache.max.bytes; 0 turns caching off.
	cacheBytes int64
}

type collector struct{ d *Driver }

// Send captures the record for output topics and queues it for the task
// reading its topic, if any.
func (c collector) Send(r streams.OutputRecord) error {
	d := c.d
	if r.Partitioner != nil {
		// The driver has one partition per topic; a custom partitioner
		// must choose it.
		if p, ok := r.Partitioner(1); ok && p != 0 {
			return fmt.Errorf("streamstest: partitioner chose partition %d of 1 for %s", p, r.Topic)
		}
	}
	d.outputs[r.Topic] = append(d.outputs[r.Topic], r)
	if _, ok := d.readers[r.Topic]; ok {
		d.pending = append(d.pending, r)
	} else if d.global != nil && slices.Contains(d.global.Topics(), r.Topic) {
		d.pending = append(d.pending, r)
	}
	return nil
}

// NewDriver builds the tasks of topology t. props holds Kafka Streams
// properties; application.id defaults to "streamstest".
func NewDriver(t *streams.Topology, props map[string]string, opts ...Option) (*Driver, error) {
	d := &Driver{
		topo:    t,
		appID:   "streamstest",
		readers: map[string]*streams.Task{},
		outputs: map[string][]streams.OutputRecord{},
		offsets: map[string]int64{},

		cacheBytes: state.DefaultCacheMaxBytes,
	}
	for k, v := range props {
		if !knownProps[k] {
			return nil, fmt.Errorf("%w: unknown property %q", ErrConfig, k)
		}
		if k == "state.dir" {
			d.stateDir = v
		}
		if k == "statestore.cache.max.bytes" || k == "cache.max.bytes.buffering" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("%w: %s=%q is not a byte count", ErrConfig, k, v)
			}
			d.cacheBytes = n
		}
		if k == "default.deserialization.exception.handler" || k == "deserialization.exception.handler" {
			h, ok := streams.DeserializationHandlerByName(v)
			if !ok {
				return nil, fmt.Errorf("%w: %s=%q is not a known handler", ErrConfig, k, v)
			}
			d.onDeser = h
		}
		if k == "application.id" {
			if v == "" {
				return nil, fmt.Errorf("%w: application.id is empty", ErrConfig)
			}
			d.appID = v
		}
	}
	for _, o := range opts {
		o(d)
	}
	d.collector = collector{d}
	if d.stateDir == "" {
		dir, err := os.MkdirTemp("", "streamstest-")
		if err != nil {
			return nil, fmt.Errorf("streamstest: state directory: %w", err)
		}
		d.stateDir, d.tempDir = dir, dir
	}
	clock := func() int64 { return d.wallClock }
	base := streams.TaskConfig{ApplicationID: d.appID, Collector: d.collector, TimestampExtractor: d.tsx, Clock: clock, Logger: d.log, StateDir: d.stateDir,
		DeserializationExceptionHandler: d.onDeser}
	if d.cacheBytes > 0 {
		cache, err := state.NewCache(state.CacheConfig{MaxBytes: d.cacheBytes, Logger: d.log})
		if err != nil {
			d.removeTemp()
			return nil, err
		}
		base.Cache = cache
	}
	global, err := t.NewGlobalTask(base)
	if err != nil {
		d.removeTemp()
		return nil, err
	}
	d.global = global
	for _, id := range t.Subtopologies() {
		cfg := base
		cfg.ID = streams.TaskID{Subtopology: id, Partition: 0}
		cfg.Global = global
		task, err := t.NewTask(cfg)
		if err != nil {
			_ = d.Close()
			return nil, err
		}
		d.tasks = append(d.tasks, task)
		for _, tp := range task.Topics() {
			d.readers[tp] = task
		}
	}
	return d, nil
}

// ApplicationID returns the application.id the driver runs with.
func (d *Driver) ApplicationID() string { return d.appID }

// pipe feeds one record into the topology and completes all the work it
// causes.
func (d *Driver) pipe(topic string, key, value []byte, ts int64, headers streams.Headers) error {
	if d.closed {
		return errors.New("streamstest: driver is closed")
	}
	if err := d.deliver(streams.OutputRecord{Topic: topic, Key: key, Value: value, Timestamp: ts, Headers: headers}); err != nil {
		return err
	}
	for len(d.pending) > 0 {
		r := d.pending[0]
		d.pending = d.pending[1:]
		if err := d.deliver(r); err != nil {
			return err
		}
	}
	return d.commit()
}

// deliver processes one record with the task (or global task) reading its
// topic.
func (d *Driver) deliver(r streams.OutputRecord) error {
	in := streams.InputRecord{Topic: r.Topic, Partition: 0, Offset: d.offsets[r.Topic], Key: r.Key, Value: r.Value, Timestamp: r.Timestamp, Headers: r.Headers}
	d.offsets[r.Topic]++
	if task, ok := d.readers[r.Topic]; ok {
		return task.Process(in)
	}
	if d.global != nil && slices.Contains(d.global.Topics(), r.Topic) {
		return d.global.Process(in)
	}
	return fmt.Errorf("%w: %q", ErrUnknownTopic, r.Topic)
}

// commit commits every task and processes what flushing forwarded.
func (d *Driver) commit() error {
	for {
		for _, t := range d.tasks {
			if err := t.Commit(); err != nil {
				return err
			}
		}
		if len(d.pending) == 0 {
			return nil
		}
		for len(d.pending) > 0 {
			r := d.pending[0]
			d.pending = d.pending[1:]
			if err := d.deliver(r); err != nil {
				return err
			}
		}
	}
}

// AdvanceWallClockTime moves the simulated wall clock forward and fires
// the wall-clock punctuators that became due.
func (d *Driver) AdvanceWallClockTime(step time.Duration) error {
	d.wallClock += step.Milliseconds()
	for _, t := range d.tasks {
		if _, err := t.PunctuateWallClock(); err != nil {
			return err
		}
	}
	for len(d.pending) > 0 {
		r := d.pending[0]
		d.pending = d.pending[1:]
		if err := d.deliver(r); err != nil {
			return err
		}
	}
	return d.commit()
}

// WallClock returns the simulated wall clock in milliseconds.
func (d *Driver) WallClock() int64 { return d.wallClock }

// DroppedRecords returns how many records the tasks (the global task
// included) dropped: negative timestamps, records later than a window's
// grace period, late join records, undecodable records skipped.
func (d *Driver) DroppedRecords() int64 {
	var n int64
	for _, t := range d.tasks {
		n += t.DroppedRecords()
	}
	if d.global != nil {
		n += d.global.DroppedRecords()
	}
	return n
}

// StateStore returns the store of that name from whichever task holds it,
// or nil.
func (d *Driver) StateStore(name string) streams.StateStore {
	for _, t := range d.tasks {
		if s := t.StateStore(name); s != nil {
			return s
		}
	}
	if d.global != nil {
		return d.global.StateStore(name)
	}
	return nil
}

// OutputTopics returns the topics the topology has written to, internal
// ones included, sorted.
func (d *Driver) OutputTopics() []string {
	var out []string
	for tp := range d.outputs {
		out = append(out, tp)
	}
	slices.Sort(out)
	return out
}

// Close closes every task.
func (d *Driver) Close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	var errs []error
	for _, t := range d.tasks {
		errs = append(errs, t.Close())
	}
	if d.global != nil {
		errs = append(errs, d.global.Close())
	}
	d.removeTemp()
	return errors.Join(errs...)
}

// removeTemp deletes the state directory the driver created, if any.
func (d *Driver) removeTemp() {
	if d.tempDir != "" {
		_ = os.RemoveAll(d.tempDir)
		d.tempDir = ""
	}
}

// KeyValueStore returns the key-value store of that name as a typed view.
func KeyValueStore[K, V any](d *Driver, name string) (streams.KeyValueStore[K, V], error) {
	return streams.GetKeyValueStore[K, V](d, name)
}

// WindowStore returns the window store of that name as a typed view.
func WindowStore[K, V any](d *Driver, name string) (streams.WindowStore[K, V], error) {
	return streams.GetWindowStore[K, V](d, name)
}

// SessionStore returns the session store of that name as a typed view.
func SessionStore[K, V any](d *Driver, name string) (streams.SessionStore[K, V], error) {
	return streams.GetSessionStore[K, V](d, name)
}
