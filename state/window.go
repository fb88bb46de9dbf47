package state

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"
)

// Window is a time interval in milliseconds since the epoch: [Start, End)
// for time windows, [Start, End] for sessions (Kafka's TimeWindow and
// SessionWindow).
type Window struct {
	Start int64
	End   int64
}

// Windowed is a key together with the window it belongs to: the key of a
// windowed aggregation's result.
type Windowed[K any] struct {
	Key    K
	Window Window
}

const (
	tsSize          = 8
	seqSize         = 4
	windowSuffixLen = tsSize + seqSize
	sessionSuffix   = 2 * tsSize
)

// WindowStoreKey returns the window store (and window changelog) key
// key‖windowStart‖seq, both numbers big-endian.
func WindowStoreKey(key []byte, windowStart int64, seq int32) []byte {
	out := make([]byte, 0, len(key)+windowSuffixLen)
	out = append(out, key...)
	out = binary.BigEndian.AppendUint64(out, uint64(windowStart))
	return binary.BigEndian.AppendUint32(out, uint32(seq))
}

// ParseWindowStoreKey splits a window store key into its parts. The key
// part aliases b.
func ParseWindowStoreKey(b []byte) (key []byte, windowStart int64, seq int32, err error) {
	if len(b) < windowSuffixLen {
		return nil, 0, 0, fmt.Errorf("%w: window store key of %d bytes, need at least %d", ErrFormat, len(b), windowSuffixLen)
	}
	n := len(b) - windowSuffixLen
	return b[:n], int64(binary.BigEndian.Uint64(b[n:])), int32(binary.BigEndian.Uint32(b[n+tsSize:])), nil
}

// SessionStoreKey returns the session store (and session changelog) key
// key‖end‖start, both big-endian. It is also the session-windowed record key.
func SessionStoreKey(key []byte, w Window) []byte {
	out := make([]byte, 0, len(key)+sessionSuffix)
	out = append(out, key...)
	out = binary.BigEndian.AppendUint64(out, uint64(w.End))
	return binary.BigEndian.AppendUint64(out, uint64(w.Start))
}

// ParseSessionStoreKey splits a session store key. The key part aliases b.
func ParseSessionStoreKey(b []byte) (key []byte, w Window, err error) {
	if len(b) < sessionSuffix {
		return nil, Window{}, fmt.Errorf("%w: session key of %d bytes, need at least %d", ErrFormat, len(b), sessionSuffix)
	}
	n := len(b) - sessionSuffix
	return b[:n], Window{Start: int64(binary.BigEndian.Uint64(b[n+tsSize:])), End: int64(binary.BigEndian.Uint64(b[n:]))}, nil
}

// TimeWindowedKey returns the time-windowed record key key‖windowStart
// (Kafka's TimeWindowedSerializer).
func TimeWindowedKey(key []byte, windowStart int64) []byte {
	out := make([]byte, 0, len(key)+tsSize)
	out = append(out, key...)
	return binary.BigEndian.AppendUint64(out, uint64(windowStart))
}

// ParseTimeWindowedKey splits a time-windowed record key. The key part
// aliases b.
func ParseTimeWindowedKey(b []byte) (key []byte, windowStart int64, err error) {
	if len(b) < tsSize {
		return nil, 0, fmt.Errorf("%w: time-windowed key of %d bytes, need at least %d", ErrFormat, len(b), tsSize)
	}
	n := len(b) - tsSize
	return b[:n], int64(binary.BigEndian.Uint64(b[n:])), nil
}

// TimeWindowFor returns the window [start, start+size), with End clamped to
// math.MaxInt64 on overflow, as Kafka's TimeWindowedDeserializer does.
func TimeWindowFor(start, size int64) Window {
	end := start + size
	if end < start {
		end = math.MaxInt64
	}
	return Window{Start: start, End: end}
}

// WindowBytes is a window store over bytes: values per key and window start.
// Reads skip windows older than stream time minus retention. Iterators over
// several keys return segments in time order and, within a segment, entries
// in store-key byte order (Kafka's RocksDB window store order).
type WindowBytes interface {
	// Name returns the store name.
	Name() string
	// Put stores value for key and window start; nil deletes (and is
	// ignored when the store retains duplicates). Writes to expired
	// segments are dropped.
	Put(key, value []byte, windowStart int64) error
	// FetchOne returns the value of key in the window starting at
	// windowStart, or nil. With retained duplicates it reads sequence 0
	// only, which is never written; use Fetch.
	FetchOne(key []byte, windowStart int64) ([]byte, error)
	// Fetch iterates the windows of key starting in [timeFrom, timeTo],
	// by ascending start; the iterator key is the window start.
	Fetch(key []byte, timeFrom, timeTo int64) Iterator[int64, []byte]
	// BackwardFetch is Fetch by descending start.
	BackwardFetch(key []byte, timeFrom, timeTo int64) Iterator[int64, []byte]
	// FetchRange iterates the windows of keys in [keyFrom, keyTo] (nil
	// bounds open) starting in [timeFrom, timeTo].
	FetchRange(keyFrom, keyTo []byte, timeFrom, timeTo int64) Iterator[Windowed[[]byte], []byte]
	// BackwardFetchRange is FetchRange in reverse.
	BackwardFetchRange(keyFrom, keyTo []byte, timeFrom, timeTo int64) Iterator[Windowed[[]byte], []byte]
	// FetchAll iterates every key's windows starting in [timeFrom, timeTo].
	FetchAll(timeFrom, timeTo int64) Iterator[Windowed[[]byte], []byte]
	// BackwardFetchAll is FetchAll in reverse.
	BackwardFetchAll(timeFrom, timeTo int64) Iterator[Windowed[[]byte], []byte]
	// All iterates every live window.
	All() Iterator[Windowed[[]byte], []byte]
	// BackwardAll is All in reverse.
	BackwardAll() Iterator[Windowed[[]byte], []byte]
	// Flush makes every write so far durable.
	Flush() error
	// Close flushes and releases the store.
	Close() error
}

// WindowConfig configures a WindowDB.
type WindowConfig struct {
	// Name is the store name; segments are named <Name>.<segmentStartMs>.
	Name string
	// Dir is the store directory, state.dir/<application.id>/<task>/<Name>
	// (state.dir). Required unless InMemory.
	Dir string
	// InMemory keeps the segments in memory.
	InMemory bool
	// Retention is how long windows are kept after stream time passes
	// their start (Materialized.withRetention; window size plus grace by
	// default in the DSL). Required, at least WindowSize.
	Retention time.Duration
	// WindowSize is the window length, used to report window ends.
	// Required.
	WindowSize time.Duration
	// RetainDuplicates keeps every put under its own sequence number
	// instead of overwriting (stream-stream join buffers).
	RetainDuplicates bool
	// SegmentInterval is the time span of one segment. Zero means Kafka's
	// default, max(Retention/2, 60s).
	SegmentInterval time.Duration
	// Logger receives warnings; nil discards them.
	Logger *slog.Logger
}

// DefaultSegmentInterval returns Kafka Streams' segment interval for a
// window or session store: max(retention/2, 60s).
func DefaultSegmentInterval(retention time.Duration) time.Duration {
	return max(retention/2, time.Minute)
}

// WindowDB is the segmented window store, on leveldb or in memory.
// It is safe for one writer and concurrent readers.
type WindowDB struct {
	name       string
	windowSize int64
	dups       bool
	segs       *segmented
	log        *slog.Logger

	mu  sync.Mutex
	seq int32
}

var _ WindowBytes = (*WindowDB)(nil)

// OpenWindow opens (or creates) the window store cfg describes.
func OpenWindow(cfg WindowConfig) (*WindowDB, error) {
	if cfg.Name == "" {
		return nil, fmt.Errorf("%w: Name is empty", ErrConfig)
	}
	if !cfg.InMemory && cfg.Dir == "" {
		return nil, fmt.Errorf("%w: store %q: Dir (state.dir) is empty and InMemory is false", ErrConfig, cfg.Name)
	}
	if cfg.WindowSize <= 0 {
		return nil, fmt.Errorf("%w: store %q: WindowSize must be positive, got %v", ErrConfig, cfg.Name, cfg.WindowSize)
	}
	if cfg.Retention < cfg.WindowSize {
		return nil, fmt.Errorf("%w: store %q: Retention %v is below WindowSize %v", ErrConfig, cfg.Name, cfg.Retention, cfg.WindowSize)
	}
	if cfg.SegmentInterval == 0 {
		cfg.SegmentInterval = DefaultSegmentInterval(cfg.Retention)
	}
	if cfg.SegmentInterval < time.Millisecond {
		return nil, fmt.Errorf("%w: store %q: SegmentInterval must be at least 1ms, got %v", ErrConfig, cfg.Name, cfg.SegmentInterval)
	}
	log := orDiscard(cfg.Logger)
	segs, err := openSegmented(cfg.Name, cfg.Dir, cfg.InMemory, cfg.Retention.Milliseconds(), cfg.SegmentInterval.Milliseconds(), log)
	if err != nil {
		return nil, err
	}
	return &WindowDB{name: cfg.Name, windowSize: cfg.WindowSize.Milliseconds(), dups: cfg.RetainDuplicates, segs: segs, log: log}, nil
}

// Name returns the store name.
func (w *WindowDB) Name() string { return w.name }

// Put stores value under key and window start.
func (w *WindowDB) Put(key, value []byte, windowStart int64) error {
	_, err := w.put(key, value, windowStart)
	return err
}

// put writes and returns the store key written (nil when nothing was).
func (w *WindowDB) put(key, value []byte, windowStart int64) ([]byte, error) {
	var seq int32
	if w.dups {
		if value == nil {
			return nil, nil
		}
		w.mu.Lock()
		w.seq = (w.seq + 1) & math.MaxInt32
		seq = w.seq
		w.mu.Unlock()
	}
	sk := WindowStoreKey(key, windowStart, seq)
	return sk, w.segs.write(sk, windowStart, value)
}

// FetchOne returns the value of key in the window starting at windowStart.
func (w *WindowDB) FetchOne(key []byte, windowStart int64) ([]byte, error) {
	return w.segs.get(WindowStoreKey(key, windowStart, 0), windowStart)
}

// Fetch iterates key's windows starting in [timeFrom, timeTo].
func (w *WindowDB) Fetch(key []byte, timeFrom, timeTo int64) Iterator[int64, []byte] {
	return w.fetch(key, timeFrom, timeTo, false)
}

// BackwardFetch iterates key's windows by descending start.
func (w *WindowDB) BackwardFetch(key []byte, timeFrom, timeTo int64) Iterator[int64, []byte] {
	return w.fetch(key, timeFrom, timeTo, true)
}

func (w *WindowDB) fetch(key []byte, timeFrom, timeTo int64, reverse bool) Iterator[int64, []byte] {
	// Timestamps are non-negative (Kafka rejects negative ones); a
	// negative bound would encode above every real key.
	from := max(w.segs.liveFrom(timeFrom), 0)
	if timeTo < from {
		return emptyIter[int64, []byte]()
	}
	lo := WindowStoreKey(key, from, 0)
	hi := WindowStoreKey(key, timeTo, math.MaxInt32)
	return scan(w.segs, w.segs.segmentID(from), w.segs.segmentID(timeTo), lo, hi, reverse, func(k []byte) (int64, bool) {
		kk, ts, _, err := ParseWindowStoreKey(k)
		if err != nil || !bytes.Equal(kk, key) || ts < from || ts > timeTo {
			return 0, false
		}
		return ts, true
	})
}

// FetchRange iterates the windows of keys in [keyFrom, keyTo].
func (w *WindowDB) FetchRange(keyFrom, keyTo []byte, timeFrom, timeTo int64) Iterator[Windowed[[]byte], []byte] {
	return w.fetchRange(keyFrom, keyTo, timeFrom, timeTo, false)
}

// BackwardFetchRange is FetchRange in reverse order.
func (w *WindowDB) BackwardFetchRange(keyFrom, keyTo []byte, timeFrom, timeTo int64) Iterator[Windowed[[]byte], []byte] {
	return w.fetchRange(keyFrom, keyTo, timeFrom, timeTo, true)
}

// FetchAll iterates every window starting in [timeFrom, timeTo].
func (w *WindowDB) FetchAll(timeFrom, timeTo int64) Iterator[Windowed[[]byte], []byte] {
	return w.fetchRange(nil, nil, timeFrom, timeTo, false)
}

// BackwardFetchAll is FetchAll in reverse order.
func (w *WindowDB) BackwardFetchAll(timeFrom, timeTo int64) Iterator[Windowed[[]byte], []byte] {
	return w.fetchRange(nil, nil, timeFrom, timeTo, true)
}

// All iterates every live window.
func (w *WindowDB) All() Iterator[Windowed[[]byte], []byte] {
	return w.fetchRange(nil, nil, 0, math.MaxInt64, false)
}

// BackwardAll iterates every live window in reverse order.
func (w *WindowDB) BackwardAll() Iterator[Windowed[[]byte], []byte] {
	return w.fetchRange(nil, nil, 0, math.MaxInt64, true)
}

func (w *WindowDB) fetchRange(keyFrom, keyTo []byte, timeFrom, timeTo int64, reverse bool) Iterator[Windowed[[]byte], []byte] {
	if keyFrom != nil && keyTo != nil && bytes.Compare(keyFrom, keyTo) > 0 {
		w.log.Warn("fetch with key from above key to returns no windows", "store", w.name)
		return emptyIter[Windowed[[]byte], []byte]()
	}
	// Timestamps are non-negative (Kafka rejects negative ones); a
	// negative bound would encode above every real key.
	from := max(w.segs.liveFrom(timeFrom), 0)
	if timeTo < from {
		return emptyIter[Windowed[[]byte], []byte]()
	}
	var lo, hi []byte
	if keyFrom != nil {
		// Keys that extend keyFrom sort after keyFrom‖0…0 whatever
		// their timestamp; keyFrom‖from‖0 would miss some of them.
		lo = append(bytes.Clone(keyFrom), make([]byte, windowSuffixLen)...)
	}
	if keyTo != nil {
		hi = upperBound(keyTo, WindowStoreKey(nil, timeTo, math.MaxInt32))
	}
	return scan(w.segs, w.segs.segmentID(from), w.segs.segmentID(timeTo), lo, hi, reverse, func(k []byte) (Windowed[[]byte], bool) {
		kk, ts, _, err := ParseWindowStoreKey(k)
		if err != nil || ts < from || ts > timeTo ||
			(keyFrom != nil && bytes.Compare(kk, keyFrom) < 0) || (keyTo != nil && bytes.Compare(kk, keyTo) > 0) {
			return Windowed[[]byte]{}, false
		}
		return Windowed[[]byte]{Key: kk, Window: TimeWindowFor(ts, w.windowSize)}, true
	})
}

// Restore applies window changelog records (keys key‖start‖seq) in order.
func (w *WindowDB) Restore(records []ChangelogRecord) error {
	keys := make([][]byte, len(records))
	tss := make([]int64, len(records))
	vals := make([][]byte, len(records))
	for i, r := range records {
		_, ts, _, err := ParseWindowStoreKey(r.Key)
		if err != nil {
			return fmt.Errorf("store %q: restore record %d: %w", w.name, i, err)
		}
		keys[i], tss[i], vals[i] = r.Key, ts, r.Value
	}
	return w.segs.restore(keys, tss, vals)
}

// ExpiredDropped returns how many writes were skipped because their window
// had already expired (Kafka's dropped-records sensor).
func (w *WindowDB) ExpiredDropped() int64 { return w.segs.expiredCount() }

// Flush makes every write durable.
func (w *WindowDB) Flush() error { return w.segs.flush() }

// Close flushes and closes every segment.
func (w *WindowDB) Close() error { return w.segs.close() }
