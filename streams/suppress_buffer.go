package streams

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/runnel/runnel/state"
)

// The suppression buffer is Kafka's InMemoryTimeOrderedKeyValueChangeBuffer:
// held updates live in memory and reach the changelog
// (<application.id>-<store>-changelog) when the task commits, one record
// per key changed since the last commit: the serialized key, and either a
// tombstone (the update was emitted) or the entry in Kafka's version 3
// format with the header v = 0x03:
//
//	int64   record timestamp       ┐
//	int64   record offset          │
//	int32   topic length, topic    │ the held record's context
//	int32   partition              │ (Kafka's ProcessorRecordContext)
//	int32   header count (-1: none)│
//	  int32 key length, key        │ per header
//	  int32 value length (-1: null), value ┘
//	int32   prior value length (-1: null), prior value
//	int32   old value length (-1: null, -2: same as prior), old value
//	int32   new value length (-1: null), new value
//	int64   buffer time (window end or first update's time)
//
// Restoring reads that format (Kafka 2.6 and later write it; bytes after
// the buffer time are ignored, as Kafka ignores them).

// bufferFormatHeader is the changelog header Kafka writes with every
// buffer entry: key "v", value {3}.
var bufferFormatHeader = Headers{{Key: "v", Value: []byte{3}}}

const (
	bufferNull      = -1 // a null value
	bufferSameAsOld = -2 // old value equal to the prior value
)

// bufferContext is the context of a held record, restored with it when
// it is emitted.
type bufferContext struct {
	timestamp int64
	offset    int64
	topic     string
	partition int32
	headers   Headers
}

// bufferEntry is one key's entry: the record's context, the value before
// the first held update (prior), the old and new values of the latest
// update (nil for null) and the buffer time.
type bufferEntry struct {
	ctx             bufferContext
	prior, old, new []byte
	time            int64
}

// encodeBufferEntry writes e in Kafka's version 3 changelog format.
func encodeBufferEntry(e *bufferEntry) []byte {
	out := make([]byte, 0, 48+len(e.ctx.topic)+len(e.prior)+len(e.old)+len(e.new))
	out = be64(be64(out, e.ctx.timestamp), e.ctx.offset)
	out = be32(out, int32(len(e.ctx.topic)))
	out = append(out, e.ctx.topic...)
	out = be32(out, e.ctx.partition)
	out = be32(out, int32(len(e.ctx.headers)))
	for _, h := range e.ctx.headers {
		out = appendNullable(append(be32(out, int32(len(h.Key))), h.Key...), h.Value)
	}
	out = appendNullable(out, e.prior)
	if e.old != nil && e.prior != nil && bytes.Equal(e.old, e.prior) {
		out = be32(out, bufferSameAsOld)
	} else {
		out = appendNullable(out, e.old)
	}
	out = appendNullable(out, e.new)
	return be64(out, e.time)
}

// decodeBufferEntry reads a version 3 entry.
func decodeBufferEntry(b []byte) (*bufferEntry, error) {
	r := bufferReader{b: b}
	e := &bufferEntry{}
	e.ctx.timestamp, e.ctx.offset = r.int64(), r.int64()
	topic, ok := r.nullable()
	if !ok || topic == nil {
		return nil, r.fail("topic")
	}
	e.ctx.topic = string(topic)
	e.ctx.partition = r.int32()
	if n := r.int32(); n != -1 {
		if n < 0 || int64(n) > int64(len(r.b))/8 {
			return nil, r.fail("header count")
		}
		for range n {
			k, ok := r.nullable()
			if !ok || k == nil {
				return nil, r.fail("header key")
			}
			v, ok := r.nullable()
			if !ok {
				return nil, r.fail("header value")
			}
			e.ctx.headers = append(e.ctx.headers, Header{Key: string(k), Value: v})
		}
	}
	if e.prior, ok = r.nullable(); !ok {
		return nil, r.fail("prior value")
	}
	if r.peekInt32() == bufferSameAsOld {
		r.int32()
		e.old = e.prior
	} else if e.old, ok = r.nullable(); !ok {
		return nil, r.fail("old value")
	}
	if e.new, ok = r.nullable(); !ok {
		return nil, r.fail("new value")
	}
	e.time = r.int64()
	if r.err {
		return nil, r.fail("buffer time")
	}
	return e, nil
}

// bufferReader reads big-endian fields, remembering a short read.
type bufferReader struct {
	b   []byte
	err bool
}

func (r *bufferReader) fail(field string) error {
	return fmt.Errorf("%w: malformed suppression buffer entry: bad %s", ErrStore, field)
}

func (r *bufferReader) take(n int) []byte {
	if r.err || n > len(r.b) {
		r.err = true
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *bufferReader) int64() int64 {
	if b := r.take(8); b != nil {
		return int64(binary.BigEndian.Uint64(b))
	}
	return 0
}

func (r *bufferReader) int32() int32 {
	if b := r.take(4); b != nil {
		return int32(binary.BigEndian.Uint32(b))
	}
	return 0
}

func (r *bufferReader) peekInt32() int32 {
	if r.err || len(r.b) < 4 {
		return 0
	}
	return int32(binary.BigEndian.Uint32(r.b))
}

// nullable reads a length-prefixed byte array, -1 meaning null.
func (r *bufferReader) nullable() ([]byte, bool) {
	n := r.int32()
	switch {
	case r.err:
		return nil, false
	case n == bufferNull:
		return nil, true
	case n < 0:
		r.err = true
		return nil, false
	}
	b := r.take(int(n))
	return bytes.Clone(b), !r.err
}

func be32(b []byte, v int32) []byte { return binary.BigEndian.AppendUint32(b, uint32(v)) }

func appendNullable(b, v []byte) []byte {
	if v == nil {
		return be32(b, bufferNull)
	}
	return append(be32(b, int32(len(v))), v...)
}

// bufferBuilder builds suppression buffers. They live in memory and are
// rebuilt from the changelog on restore, as Kafka's in-memory buffer is.
type bufferBuilder struct{ name string }

func (b *bufferBuilder) Name() string { return b.name }
func (b *bufferBuilder) Logged() bool { return true }
func (b *bufferBuilder) open(env storeEnv) (storeImpl, error) {
	return &bufferStore{name: b.name, env: env, entries: map[string]*bufferEntry{}, dirty: map[string]struct{}{}}, nil
}

// bufferStore holds a suppression processor's entries by serialized key
// and logs the keys changed since the last flush.
type bufferStore struct {
	name    string
	env     storeEnv
	entries map[string]*bufferEntry
	dirty   map[string]struct{}
}

func (s *bufferStore) Name() string { return s.name }
func (s *bufferStore) Close() error { return nil }

// topic is what keys and values are serialized for: the changelog topic,
// as in Kafka, or the store name when logging is off.
func (s *bufferStore) topic() string {
	if s.env.changelog != "" {
		return s.env.changelog
	}
	return s.name
}

func (s *bufferStore) put(kb []byte, e *bufferEntry) {
	s.entries[string(kb)] = e
	s.dirty[string(kb)] = struct{}{}
}

func (s *bufferStore) remove(kb []byte) {
	delete(s.entries, string(kb))
	s.dirty[string(kb)] = struct{}{}
}

// Flush writes every key changed since the last flush to the changelog,
// in key order.
func (s *bufferStore) Flush() error {
	if s.env.changelog == "" || s.env.task == nil {
		clear(s.dirty)
		return nil
	}
	keys := make([]string, 0, len(s.dirty))
	for k := range s.dirty {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		rec := OutputRecord{Topic: s.env.changelog, Key: []byte(k), Timestamp: s.env.now(), Partition: s.env.task.id.Partition}
		if e, ok := s.entries[k]; ok {
			rec.Value, rec.Headers, rec.Timestamp = encodeBufferEntry(e), bufferFormatHeader.Clone(), e.ctx.timestamp
		}
		s.env.task.send(rec)
	}
	clear(s.dirty)
	return s.env.task.err
}

// Restore applies changelog records: entries in Kafka's version 3 format,
// tombstones removing keys.
func (s *bufferStore) Restore(records []state.ChangelogRecord) error {
	for _, r := range records {
		if r.Value == nil {
			delete(s.entries, string(r.Key))
			continue
		}
		e, err := decodeBufferEntry(r.Value)
		if err != nil {
			return fmt.Errorf("%w (store %q)", err, s.name)
		}
		s.entries[string(r.Key)] = e
	}
	return nil
}
