package streamstest

import (
	"fmt"

	"github.com/runnel/runnel/streams"
)

// InputTopic pipes typed records into one topic of a Driver.
type InputTopic[K, V any] struct {
	d    *Driver
	name string
	ks   streams.Serde[K]
	vs   streams.Serde[V]
}

// CreateInputTopic returns a writer for topic name with the given serdes.
func CreateInputTopic[K, V any](d *Driver, name string, keySerde streams.Serde[K], valueSerde streams.Serde[V]) *InputTopic[K, V] {
	return &InputTopic[K, V]{d: d, name: name, ks: keySerde, vs: valueSerde}
}

// PipeInput sends one record stamped with the driver's wall clock.
func (t *InputTopic[K, V]) PipeInput(k K, v V) error {
	return t.PipeRecord(streams.Record[K, V]{Key: k, Value: v, Timestamp: t.d.wallClock})
}

// PipeInputAt sends one record with timestamp ts (ms).
func (t *InputTopic[K, V]) PipeInputAt(k K, v V, ts int64) error {
	return t.PipeRecord(streams.Record[K, V]{Key: k, Value: v, Timestamp: ts})
}

// PipeRecord sends one record with its timestamp and headers.
func (t *InputTopic[K, V]) PipeRecord(r streams.Record[K, V]) error {
	kb, err := t.ks.Serialize(t.name, r.Key)
	if err != nil {
		return fmt.Errorf("streamstest: serialize key for %s: %w", t.name, err)
	}
	vb, err := t.vs.Serialize(t.name, r.Value)
	if err != nil {
		return fmt.Errorf("streamstest: serialize value for %s: %w", t.name, err)
	}
	return t.d.pipe(t.name, kb, vb, r.Timestamp, r.Headers)
}

// PipeTombstone sends a record with a null value for k, stamped with the
// driver's wall clock.
func (t *InputTopic[K, V]) PipeTombstone(k K) error { return t.PipeTombstoneAt(k, t.d.wallClock) }

// PipeTombstoneAt sends a record with a null value for k at ts.
func (t *InputTopic[K, V]) PipeTombstoneAt(k K, ts int64) error {
	kb, err := t.ks.Serialize(t.name, k)
	if err != nil {
		return fmt.Errorf("streamstest: serialize key for %s: %w", t.name, err)
	}
	return t.d.pipe(t.name, kb, nil, ts, nil)
}

// OutputTopic reads, in order, the records the topology wrote to one topic.
type OutputTopic[K, V any] struct {
	d    *Driver
	name string
	ks   streams.Serde[K]
	vs   streams.Serde[V]
}

// TestRecord is one record read from an output topic. Tombstone is true
// when the value was null (Value is then the zero value).
type TestRecord[K, V any] struct {
	Key       K
	Value     V
	Timestamp int64
	Headers   streams.Headers
	Tombstone bool
}

// CreateOutputTopic returns a reader for topic name with the given serdes.
// Internal topics are named with the application.id prefix, as written.
func CreateOutputTopic[K, V any](d *Driver, name string, keySerde streams.Serde[K], valueSerde streams.Serde[V]) *OutputTopic[K, V] {
	return &OutputTopic[K, V]{d: d, name: name, ks: keySerde, vs: valueSerde}
}

// IsEmpty reports whether every record written so far has been read.
func (t *OutputTopic[K, V]) IsEmpty() bool { return len(t.d.outputs[t.name]) == 0 }

// QueueSize returns the number of unread records.
func (t *OutputTopic[K, V]) QueueSize() int { return len(t.d.outputs[t.name]) }

// ReadRecord returns the next record, or ErrNoRecord.
func (t *OutputTopic[K, V]) ReadRecord() (TestRecord[K, V], error) {
	var out TestRecord[K, V]
	q := t.d.outputs[t.name]
	if len(q) == 0 {
		return out, fmt.Errorf("%w: %s", ErrNoRecord, t.name)
	}
	r := q[0]
	t.d.outputs[t.name] = q[1:]
	out.Timestamp, out.Headers = r.Timestamp, r.Headers
	if r.Key != nil {
		k, err := t.ks.Deserialize(t.name, r.Key)
		if err != nil {
			return out, fmt.Errorf("streamstest: deserialize key from %s: %w", t.name, err)
		}
		out.Key = k
	}
	if r.Value == nil {
		out.Tombstone = true
		return out, nil
	}
	v, err := t.vs.Deserialize(t.name, r.Value)
	if err != nil {
		return out, fmt.Errorf("streamstest: deserialize value from %s: %w", t.name, err)
	}
	out.Value = v
	return out, nil
}

// ReadKeyValue returns the next record's key and value, or ErrNoRecord.
func (t *OutputTopic[K, V]) ReadKeyValue() (streams.KeyValue[K, V], error) {
	r, err := t.ReadRecord()
	return streams.KeyValue[K, V]{Key: r.Key, Value: r.Value}, err
}

// ReadValue returns the next record's value, or ErrNoRecord.
func (t *OutputTopic[K, V]) ReadValue() (V, error) {
	r, err := t.ReadRecord()
	return r.Value, err
}

// ReadRecordsToList reads every remaining record.
func (t *OutputTopic[K, V]) ReadRecordsToList() ([]TestRecord[K, V], error) {
	var out []TestRecord[K, V]
	for !t.IsEmpty() {
		r, err := t.ReadRecord()
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// ReadKeyValuesToList reads every remaining record's key and value.
func (t *OutputTopic[K, V]) ReadKeyValuesToList() ([]streams.KeyValue[K, V], error) {
	var out []streams.KeyValue[K, V]
	for !t.IsEmpty() {
		kv, err := t.ReadKeyValue()
		if err != nil {
			return out, err
		}
		out = append(out, kv)
	}
	return out, nil
}
