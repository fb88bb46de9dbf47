package state

import (
	"bytes"
	"fmt"
	"log/slog"
	"math"
	"time"
)

// SessionBytes is a session store over bytes: values per key and session
// window [Start, End]. It is segmented by session end. Reads skip sessions
// that ended before stream time minus retention.
type SessionBytes interface {
	// Name returns the store name.
	Name() string
	// Put stores value for the session of key; nil removes it.
	Put(key []byte, w Window, value []byte) error
	// Remove deletes the session of key.
	Remove(key []byte, w Window) error
	// FetchSession returns the value of key's session [start, end], or nil.
	FetchSession(key []byte, start, end int64) ([]byte, error)
	// FindSessions iterates key's sessions that end at or after
	// earliestSessionEndTime and start at or before latestSessionStartTime,
	// by ascending end, then start: the sessions a record at time t merges
	// with are FindSessions(key, t-gap, t+gap).
	FindSessions(key []byte, earliestSessionEndTime, latestSessionStartTime int64) Iterator[Windowed[[]byte], []byte]
	// BackwardFindSessions is FindSessions in reverse.
	BackwardFindSessions(key []byte, earliestSessionEndTime, latestSessionStartTime int64) Iterator[Windowed[[]byte], []byte]
	// FindSessionsRange is FindSessions over the keys in [keyFrom, keyTo]
	// (nil bounds open), by segment then store-key bytes.
	FindSessionsRange(keyFrom, keyTo []byte, earliestSessionEndTime, latestSessionStartTime int64) Iterator[Windowed[[]byte], []byte]
	// BackwardFindSessionsRange is FindSessionsRange in reverse.
	BackwardFindSessionsRange(keyFrom, keyTo []byte, earliestSessionEndTime, latestSessionStartTime int64) Iterator[Windowed[[]byte], []byte]
	// Fetch iterates every live session of key.
	Fetch(key []byte) Iterator[Windowed[[]byte], []byte]
	// BackwardFetch is Fetch in reverse.
	BackwardFetch(key []byte) Iterator[Windowed[[]byte], []byte]
	// FetchRange iterates every live session of the keys in [keyFrom, keyTo].
	FetchRange(keyFrom, keyTo []byte) Iterator[Windowed[[]byte], []byte]
	// BackwardFetchRange is FetchRange in reverse.
	BackwardFetchRange(keyFrom, keyTo []byte) Iterator[Windowed[[]byte], []byte]
	// Flush makes every write so far durable.
	Flush() error
	// Close flushes and releases the store.
	Close() error
}

// SessionConfig configures a SessionDB.
type SessionConfig struct {
	// Name is the store name; segments are named <Name>.<segmentStartMs>.
	Name string
	// Dir is the store directory, state.dir/<application.id>/<task>/<Name>
	// (state.dir). Required unless InMemory.
	Dir string
	// InMemory keeps the segments in memory.
	InMemory bool
	// Retention is how long a session is kept after stream time passes its
	// end (inactivity gap plus grace by default in the DSL). Required.
	Retention time.Duration
	// SegmentInterval is the span of one segment; zero means
	// max(Retention/2, 60s).
	SegmentInterval time.Duration
	// Logger receives warnings; nil discards them.
	Logger *slog.Logger
}

// SessionDB is the segmented session store, on leveldb or in memory.
type SessionDB struct {
	name string
	segs *segmented
	log  *slog.Logger
}

var _ SessionBytes = (*SessionDB)(nil)

// OpenSession opens (or creates) the session store cfg describes.
func OpenSession(cfg SessionConfig) (*SessionDB, error) {
	if cfg.Name == "" {
		return nil, fmt.Errorf("%w: Name is empty", ErrConfig)
	}
	if !cfg.InMemory && cfg.Dir == "" {
		return nil, fmt.Errorf("%w: store %q: Dir (state.dir) is empty and InMemory is false", ErrConfig, cfg.Name)
	}
	if cfg.Retention <= 0 {
		return nil, fmt.Errorf("%w: store %q: Retention must be positive, got %v", ErrConfig, cfg.Name, cfg.Retention)
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
	return &SessionDB{name: cfg.Name, segs: segs, log: log}, nil
}

// Name returns the store name.
func (s *SessionDB) Name() string { return s.name }

// Put stores value for key's session w; nil removes it.
func (s *SessionDB) Put(key []byte, w Window, value []byte) error {
	return s.segs.write(SessionStoreKey(key, w), w.End, value)
}

// Remove deletes key's session w.
func (s *SessionDB) Remove(key []byte, w Window) error { return s.Put(key, w, nil) }

// FetchSession returns the value of key's session [start, end].
func (s *SessionDB) FetchSession(key []byte, start, end int64) ([]byte, error) {
	return s.segs.get(SessionStoreKey(key, Window{Start: start, End: end}), end)
}

// FindSessions iterates key's sessions overlapping the given bounds.
func (s *SessionDB) FindSessions(key []byte, earliestSessionEndTime, latestSessionStartTime int64) Iterator[Windowed[[]byte], []byte] {
	return s.find(key, key, true, earliestSessionEndTime, latestSessionStartTime, false)
}

// BackwardFindSessions is FindSessions in reverse.
func (s *SessionDB) BackwardFindSessions(key []byte, earliestSessionEndTime, latestSessionStartTime int64) Iterator[Windowed[[]byte], []byte] {
	return s.find(key, key, true, earliestSessionEndTime, latestSessionStartTime, true)
}

// FindSessionsRange is FindSessions over a key range.
func (s *SessionDB) FindSessionsRange(keyFrom, keyTo []byte, earliestSessionEndTime, latestSessionStartTime int64) Iterator[Windowed[[]byte], []byte] {
	return s.find(keyFrom, keyTo, false, earliestSessionEndTime, latestSessionStartTime, false)
}

// BackwardFindSessionsRange is FindSessionsRange in reverse.
func (s *SessionDB) BackwardFindSessionsRange(keyFrom, keyTo []byte, earliestSessionEndTime, latestSessionStartTime int64) Iterator[Windowed[[]byte], []byte] {
	return s.find(keyFrom, keyTo, false, earliestSessionEndTime, latestSessionStartTime, true)
}

// Fetch iterates every live session of key.
func (s *SessionDB) Fetch(key []byte) Iterator[Windowed[[]byte], []byte] {
	return s.find(key, key, true, 0, math.MaxInt64, false)
}

// BackwardFetch is Fetch in reverse.
func (s *SessionDB) BackwardFetch(key []byte) Iterator[Windowed[[]byte], []byte] {
	return s.find(key, key, true, 0, math.MaxInt64, true)
}

// FetchRange iterates every live session of the keys in [keyFrom, keyTo].
func (s *SessionDB) FetchRange(keyFrom, keyTo []byte) Iterator[Windowed[[]byte], []byte] {
	return s.find(keyFrom, keyTo, false, 0, math.MaxInt64, false)
}

// BackwardFetchRange is FetchRange in reverse.
func (s *SessionDB) BackwardFetchRange(keyFrom, keyTo []byte) Iterator[Windowed[[]byte], []byte] {
	return s.find(keyFrom, keyTo, false, 0, math.MaxInt64, true)
}

func (s *SessionDB) find(keyFrom, keyTo []byte, exact bool, earliestEnd, latestStart int64, reverse bool) Iterator[Windowed[[]byte], []byte] {
	if keyFrom != nil && keyTo != nil && bytes.Compare(keyFrom, keyTo) > 0 {
		s.log.Warn("session fetch with key from above key to returns no sessions", "store", s.name)
		return emptyIter[Windowed[[]byte], []byte]()
	}
	from := max(s.segs.liveFrom(earliestEnd), 0)
	maxSuffix := SessionStoreKey(nil, Window{Start: math.MaxInt64, End: math.MaxInt64})
	var lo, hi []byte
	switch {
	case exact:
		lo = SessionStoreKey(keyFrom, Window{Start: 0, End: from})
		hi = append(bytes.Clone(keyFrom), maxSuffix...)
	default:
		if keyFrom != nil {
			lo = append(bytes.Clone(keyFrom), make([]byte, sessionSuffix)...)
		}
		if keyTo != nil {
			hi = upperBound(keyTo, maxSuffix)
		}
	}
	// A session ending at or after from may end arbitrarily late, so every
	// segment from from's on is searched.
	return scan(s.segs, s.segs.segmentID(from), math.MaxInt64, lo, hi, reverse, func(k []byte) (Windowed[[]byte], bool) {
		kk, w, err := ParseSessionStoreKey(k)
		if err != nil || w.End < from || w.Start > latestStart {
			return Windowed[[]byte]{}, false
		}
		if exact && !bytes.Equal(kk, keyFrom) {
			return Windowed[[]byte]{}, false
		}
		if !exact && ((keyFrom != nil && bytes.Compare(kk, keyFrom) < 0) || (keyTo != nil && bytes.Compare(kk, keyTo) > 0)) {
			return Windowed[[]byte]{}, false
		}
		return Windowed[[]byte]{Key: kk, Window: w}, true
	})
}

// Restore applies session changelog records (keys key‖end‖start) in order.
func (s *SessionDB) Restore(records []ChangelogRecord) error {
	keys := make([][]byte, len(records))
	tss := make([]int64, len(records))
	vals := make([][]byte, len(records))
	for i, r := range records {
		_, w, err := ParseSessionStoreKey(r.Key)
		if err != nil {
			return fmt.Errorf("store %q: restore record %d: %w", s.name, i, err)
		}
		keys[i], tss[i], vals[i] = r.Key, w.End, r.Value
	}
	return s.segs.restore(keys, tss, vals)
}

// ExpiredDropped returns how many writes were skipped because their session
// had already expired.
func (s *SessionDB) ExpiredDropped() int64 { return s.segs.expiredCount() }

// Flush makes every write durable.
func (s *SessionDB) Flush() error { return s.segs.flush() }

// Close flushes and closes every segment.
func (s *SessionDB) Close() error { return s.segs.close() }
