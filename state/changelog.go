package state

import (
	"bytes"
	"fmt"
	"strconv"
	"time"
)

// ChangelogRecord is one write to a store as it goes to the store's
// changelog topic (<application.id>-<store>-changelog): the store key bytes
// (for window and session stores in Kafka's store-key format), the value
// bytes or nil for a delete (a tombstone), and the timestamp of the record
// being processed.
type ChangelogRecord struct {
	Key       []byte
	Value     []byte
	Timestamp int64
}

// ChangelogSink receives every write of a logged store, in order. The
// streams runtime implements it with a Kafka producer writing to the
// store's changelog partition; tests collect records in a slice.
type ChangelogSink interface {
	// Send records one write. An error fails the write that caused it;
	// the store has already been changed by then.
	Send(rec ChangelogRecord) error
}

// SinkFunc adapts a function to ChangelogSink.
type SinkFunc func(rec ChangelogRecord) error

// Send calls f.
func (f SinkFunc) Send(rec ChangelogRecord) error { return f(rec) }

// Restorer is a store that applies changelog records directly, without
// logging them again. KeyValueDB, WindowDB and SessionDB are Restorers; so
// are the logged and cached wrappers, which pass records to the store they
// wrap.
type Restorer interface {
	// Restore applies records in order; a nil value deletes.
	Restore(records []ChangelogRecord) error
}

// Timestamper returns the timestamp of the record being processed, which
// logged stores put on their changelog records. Nil means -1 (no
// timestamp; the producer then stamps the record itself).
type Timestamper func() int64

func (f Timestamper) now() int64 {
	if f == nil {
		return -1
	}
	return f()
}

// newRecord copies key and value, so that a sink may keep the record after
// the caller reuses its buffers.
func newRecord(key, value []byte, ts Timestamper) ChangelogRecord {
	r := ChangelogRecord{Key: bytes.Clone(key), Timestamp: ts.now()}
	if value != nil {
		r.Value = bytes.Clone(value)
	}
	return r
}

// ChangelogTopic returns the changelog topic of a store,
// <application.id>-<store>-changelog.
func ChangelogTopic(applicationID, store string) string {
	return applicationID + "-" + store + "-changelog"
}

// DefaultWindowChangelogAdditionalRetention is the default of
// windowstore.changelog.additional.retention.ms: one day.
const DefaultWindowChangelogAdditionalRetention = 24 * time.Hour

// ChangelogTopicConfigs returns the topic configs of a changelog topic.
// Key-value changelogs are compacted. Window and session changelogs
// (windowed) are compacted and deleted after the store's retention plus
// additional (windowstore.changelog.additional.retention.ms), so that
// expired windows leave the topic too.
func ChangelogTopicConfigs(windowed bool, retention, additional time.Duration) map[string]string {
	if !windowed {
		return map[string]string{"cleanup.policy": "compact"}
	}
	return map[string]string{
		"cleanup.policy": "compact,delete",
		"retention.ms":   strconv.FormatInt((retention + additional).Milliseconds(), 10),
	}
}

// Store is what every store and wrapper has in common; the runtime flushes
// and closes a task's stores through it.
type Store interface {
	Name() string
	Flush() error
	Close() error
}

var (
	_ Store = KeyValueBytes(nil)
	_ Store = WindowBytes(nil)
	_ Store = SessionBytes(nil)
)

func restoreInto(inner any, name string, records []ChangelogRecord) error {
	r, ok := inner.(Restorer)
	if !ok {
		return fmt.Errorf("%w: store %q of type %T cannot restore", ErrConfig, name, inner)
	}
	return r.Restore(records)
}

// LoggedKeyValue wraps a key-value store and sends every write to a
// ChangelogSink (Kafka's ChangeLoggingKeyValueBytesStore). Reads go straight
// to the wrapped store.
type LoggedKeyValue struct {
	KeyValueBytes
	sink ChangelogSink
	ts   Timestamper
}

// NewLoggedKeyValue wraps inner; ts supplies the changelog timestamps.
func NewLoggedKeyValue(inner KeyValueBytes, sink ChangelogSink, ts Timestamper) *LoggedKeyValue {
	return &LoggedKeyValue{KeyValueBytes: inner, sink: sink, ts: ts}
}

func (l *LoggedKeyValue) send(k, v []byte) error {
	if err := l.sink.Send(newRecord(k, v, l.ts)); err != nil {
		return fmt.Errorf("store %q: changelog: %w", l.Name(), err)
	}
	return nil
}

// Put writes and logs key.
func (l *LoggedKeyValue) Put(key, value []byte) error {
	if err := l.KeyValueBytes.Put(key, value); err != nil {
		return err
	}
	return l.send(key, value)
}

// PutIfAbsent writes and logs key when it was absent.
func (l *LoggedKeyValue) PutIfAbsent(key, value []byte) ([]byte, error) {
	old, err := l.KeyValueBytes.PutIfAbsent(key, value)
	if err != nil || old != nil {
		return old, err
	}
	return nil, l.send(key, value)
}

// PutAll writes and logs every entry.
func (l *LoggedKeyValue) PutAll(entries []KeyValue[[]byte, []byte]) error {
	if err := l.KeyValueBytes.PutAll(entries); err != nil {
		return err
	}
	for _, e := range entries {
		if err := l.send(e.Key, e.Value); err != nil {
			return err
		}
	}
	return nil
}

// Delete deletes key and logs a tombstone.
func (l *LoggedKeyValue) Delete(key []byte) ([]byte, error) {
	old, err := l.KeyValueBytes.Delete(key)
	if err != nil {
		return old, err
	}
	return old, l.send(key, nil)
}

// Restore applies changelog records to the wrapped store without logging.
func (l *LoggedKeyValue) Restore(records []ChangelogRecord) error {
	return restoreInto(l.KeyValueBytes, l.Name(), records)
}

// LoggedWindow wraps a window store and logs every write with the key
// key‖windowStart‖seq (Kafka's ChangeLoggingWindowBytesStore).
type LoggedWindow struct {
	WindowBytes
	sink ChangelogSink
	ts   Timestamper
}

// NewLoggedWindow wraps inner; ts supplies the changelog timestamps.
func NewLoggedWindow(inner WindowBytes, sink ChangelogSink, ts Timestamper) *LoggedWindow {
	return &LoggedWindow{WindowBytes: inner, sink: sink, ts: ts}
}

// storeKeyPutter is a window store that reports the store key a put used,
// so that the changelog carries the same sequence number.
type storeKeyPutter interface {
	put(key, value []byte, windowStart int64) ([]byte, error)
}

// Put writes and logs one window.
func (l *LoggedWindow) Put(key, value []byte, windowStart int64) error {
	var sk []byte
	if p, ok := l.WindowBytes.(storeKeyPutter); ok {
		var err error
		if sk, err = p.put(key, value, windowStart); err != nil || sk == nil {
			return err
		}
	} else {
		if err := l.WindowBytes.Put(key, value, windowStart); err != nil {
			return err
		}
		sk = WindowStoreKey(key, windowStart, 0)
	}
	if err := l.sink.Send(newRecord(sk, value, l.ts)); err != nil {
		return fmt.Errorf("store %q: changelog: %w", l.Name(), err)
	}
	return nil
}

// Restore applies window changelog records to the wrapped store.
func (l *LoggedWindow) Restore(records []ChangelogRecord) error {
	return restoreInto(l.WindowBytes, l.Name(), records)
}

// LoggedSession wraps a session store and logs every write with the key
// key‖end‖start (Kafka's ChangeLoggingSessionBytesStore).
type LoggedSession struct {
	SessionBytes
	sink ChangelogSink
	ts   Timestamper
}

// NewLoggedSession wraps inner; ts supplies the changelog timestamps.
func NewLoggedSession(inner SessionBytes, sink ChangelogSink, ts Timestamper) *LoggedSession {
	return &LoggedSession{SessionBytes: inner, sink: sink, ts: ts}
}

// Put writes and logs one session; nil removes it and logs a tombstone.
func (l *LoggedSession) Put(key []byte, w Window, value []byte) error {
	if err := l.SessionBytes.Put(key, w, value); err != nil {
		return err
	}
	if err := l.sink.Send(newRecord(SessionStoreKey(key, w), value, l.ts)); err != nil {
		return fmt.Errorf("store %q: changelog: %w", l.Name(), err)
	}
	return nil
}

// Remove removes a session and logs a tombstone.
func (l *LoggedSession) Remove(key []byte, w Window) error { return l.Put(key, w, nil) }

// Restore applies session changelog records to the wrapped store.
func (l *LoggedSession) Restore(records []ChangelogRecord) error {
	return restoreInto(l.SessionBytes, l.Name(), records)
}
