package server

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Incremental fetch sessions (KIP-227). A consumer that fetches many
// partitions would otherwise resend all of them, and get all of them back,
// on every Fetch. With a session the broker remembers the partitions a
// client fetches, with the fetch offset and limits it last sent and the
// high watermark, last stable offset and log start offset it last
// answered. An incremental request carries only the partitions whose
// parameters changed (and the ones to forget); its response carries only
// the partitions with something to say: records, an error, or a changed
// offset.
//
// A session is named by a random non-zero ID and an epoch that the client
// increments with each request (wrapping from MaxInt32 to 1), so a
// request that is replayed, or comes from a client that missed a
// response, is refused with INVALID_FETCH_SESSION_EPOCH rather than
// answered against state the client does not have.
//
// The cache holds at most max.incremental.fetch.session.cache.slots
// sessions. When it is full a new session takes the slot of one that has
// not been used for sessionEvictionAge or else of the smallest session
// older than sessionEvictionAge, if that one holds fewer partitions than
// the new one; otherwise the full fetch is answered without a session.

// sessionEvictionAge is Kafka's fixed minimum incremental fetch session
// eviction time: a session is not displaced by a larger one before it is
// this old, and one unused for this long gives way to any new session.
const sessionEvictionAge = 120 * time.Second

// sessionKey names one partition of a session: by topic name in sessions
// made with Fetch v7–v12, by topic ID in sessions made with v13 and later.
type sessionKey struct {
	topic     string
	topicID   [16]byte
	partition int32
}

// sessionPartition is what a session holds for one partition: the fetch
// parameters the client last sent, and the offsets the client was last
// told. The reported offsets are -1 until reported; the high watermark
// goes back to -1 after an error so that recovery is reported too.
type sessionPartition struct {
	key            sessionKey
	fetchOffset    int64
	maxBytes       int32
	leaderEpoch    int32 // the client's current leader epoch, -1 for none
	logStartOffset int64 // the fetcher's log start offset (followers)

	hw, lso, logStart int64
}

// newSessionPartition returns a partition as a request gives it, with
// nothing reported yet.
func newSessionPartition(key sessionKey, fetchOffset int64, maxBytes, leaderEpoch int32, logStartOffset int64) sessionPartition {
	return sessionPartition{key: key, fetchOffset: fetchOffset, maxBytes: maxBytes, leaderEpoch: leaderEpoch,
		logStartOffset: logStartOffset, hw: -1, lso: -1, logStart: -1}
}

// partitionRead is what reading one partition produced, as far as a
// session needs it to decide whether the partition is reported.
type partitionRead struct {
	hw, lso, logStart int64
	records           bool // the read returned record bytes
	err               bool // the partition is answered with an error
}

// fetchSession is one client's session.
type fetchSession struct {
	id       int32
	topicIDs bool // made with Fetch v13+: partitions are keyed by topic ID
	created  time.Time

	// lastUsed and size are guarded by the cache's mutex.
	lastUsed time.Time
	size     int

	mu sync.Mutex
	// epoch is the epoch the next incremental request must carry.
	epoch int32
	// parts is the order partitions are read in; index finds them.
	parts []*sessionPartition
	index map[sessionKey]*sessionPartition
}

// fetchSessions is the broker's cache of fetch sessions. It is safe for
// concurrent use: its mutex guards the set of sessions and their use
// times, each session's mutex its partitions and epoch, and the cache's
// is always taken first.
type fetchSessions struct {
	slots int

	mu   sync.Mutex
	byID map[int32]*fetchSession
}

// newFetchSessions returns a cache of at most slots sessions; 0 turns
// sessions off.
func newFetchSessions(slots int) *fetchSessions {
	return &fetchSessions{slots: max(slots, 0), byID: map[int32]*fetchSession{}}
}

// nextSessionEpoch is the epoch that follows e: epochs wrap past MaxInt32
// to 1, since 0 asks for a new session.
func nextSessionEpoch(e int32) int32 {
	switch {
	case e < 0:
		return -1
	case e == math.MaxInt32:
		return 1
	default:
		return e + 1
	}
}

// FetchSessions returns the number of incremental fetch sessions open.
func (s *Server) FetchSessions() int { return s.sessions.len() }

// len reports the number of open sessions.
func (c *fetchSessions) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byID)
}

// remove closes session id, if it exists.
func (c *fetchSessions) remove(id int32) {
	c.mu.Lock()
	delete(c.byID, id)
	c.mu.Unlock()
}

// create opens a session holding parts (in order; a partition given twice
// keeps its first place and its last parameters) and returns its ID, or 0
// when no slot is free and none may be taken over.
func (c *fetchSessions) create(now time.Time, topicIDs bool, parts []sessionPartition) int32 {
	s := &fetchSession{topicIDs: topicIDs, created: now, epoch: nextSessionEpoch(0),
		index: make(map[sessionKey]*sessionPartition, len(parts))}
	for _, p := range parts {
		s.put(p)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.byID) >= c.slots && !c.evictFor(now, len(s.parts)) {
		return 0
	}
	for s.id == 0 || c.byID[s.id] != nil {
		s.id = rand.Int32N(math.MaxInt32) + 1
	}
	c.byID[s.id] = s
	s.lastUsed, s.size = now, len(s.parts)
	return s.id
}

// evictFor frees a slot for a new session of size partitions, if Kafka's
// policy lets it: the least recently used session goes if it has been
// idle for sessionEvictionAge; otherwise the smallest session (the lowest
// ID among equals) that was older than sessionEvictionAge when last used
// goes if it holds fewer partitions than the new one. c.mu is held.
func (c *fetchSessions) evictFor(now time.Time, size int) bool {
	var lru, small *fetchSession
	for _, s := range c.byID {
		if lru == nil || s.lastUsed.Before(lru.lastUsed) || s.lastUsed.Equal(lru.lastUsed) && s.id < lru.id {
			lru = s
		}
		if s.lastUsed.Sub(s.created) > sessionEvictionAge &&
			(small == nil || s.size < small.size || s.size == small.size && s.id < small.id) {
			small = s
		}
	}
	switch {
	case lru == nil:
		return false
	case now.Sub(lru.lastUsed) > sessionEvictionAge:
		delete(c.byID, lru.id)
		return true
	case small != nil && size > small.size:
		delete(c.byID, small.id)
		return true
	}
	return false
}

// put adds p at the end of the session's order, or updates the fetch
// parameters of the partition already there. s.mu is held or s is not
// shared yet.
func (s *fetchSession) put(p sessionPartition) {
	if cur := s.index[p.key]; cur != nil {
		cur.fetchOffset, cur.maxBytes, cur.leaderEpoch, cur.logStartOffset = p.fetchOffset, p.maxBytes, p.leaderEpoch, p.logStartOffset
		return
	}
	np := p
	s.parts = append(s.parts, &np)
	s.index[p.key] = &np
}

// incremental applies an incremental request to session id: it checks
// the request's epoch and topic naming (topic IDs from Fetch v13), adds or
// updates the request's partitions, drops the forgotten ones, and
// advances the expected epoch. It returns the session and a copy of its
// partitions in read order, to be read and then passed to respond. When
// the request leaves the session empty the session is closed and
// incremental returns a nil session: the request is answered as a
// sessionless full fetch.
func (c *fetchSessions) incremental(now time.Time, id, epoch int32, topicIDs bool, upd []sessionPartition, forget []sessionKey) (*fetchSession, []sessionPartition, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.byID[id]
	if s == nil {
		return nil, nil, fmt.Errorf("%w: session %d", kerr.FetchSessionIDNotFound, id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if epoch != s.epoch {
		return nil, nil, fmt.Errorf("%w: session %d expects epoch %d, request has %d", kerr.InvalidFetchSessionEpoch, id, s.epoch, epoch)
	}
	if topicIDs != s.topicIDs {
		return nil, nil, fmt.Errorf("%w: session %d", kerr.FetchSessionTopicIDError, id)
	}
	for _, p := range upd {
		s.put(p)
	}
	if len(forget) > 0 {
		gone := make(map[sessionKey]bool, len(forget))
		for _, k := range forget {
			if s.index[k] != nil {
				gone[k] = true
				delete(s.index, k)
			}
		}
		kept := s.parts[:0]
		for _, p := range s.parts {
			if !gone[p.key] {
				kept = append(kept, p)
			}
		}
		clear(s.parts[len(kept):])
		s.parts = kept
	}
	if len(s.parts) == 0 {
		delete(c.byID, id)
		return nil, nil, nil
	}
	s.lastUsed, s.size = now, len(s.parts)
	s.epoch = nextSessionEpoch(s.epoch)
	snap := make([]sessionPartition, len(s.parts))
	for i, p := range s.parts {
		snap[i] = *p
	}
	return s, snap, nil
}

// respond takes what reading snap (from incremental, for a request of
// reqEpoch) returned and reports which of its partitions the response
// must carry, by index into snap: those with records or an error, and
// those whose high watermark, last stable offset or log start offset
// differ from what the client was last told. Partitions that returned
// records move to the end of the read order, so that a small response
// limit does not keep starving the ones after them. A session used by
// another request meanwhile fails with INVALID_FETCH_SESSION_EPOCH.
func (s *fetchSession) respond(reqEpoch int32, snap []sessionPartition, reads []partitionRead) ([]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.epoch != nextSessionEpoch(reqEpoch) {
		return nil, fmt.Errorf("%w: session %d was used concurrently", kerr.InvalidFetchSessionEpoch, s.id)
	}
	var include []int
	moved := map[sessionKey]bool{}
	for i, r := range reads {
		p := s.index[snap[i].key]
		if p == nil {
			continue
		}
		report := r.records || r.err || p.hw != r.hw || p.lso != r.lso || p.logStart != r.logStart
		p.hw, p.lso, p.logStart = r.hw, r.lso, r.logStart
		if r.err {
			p.hw = -1
		}
		if report {
			include = append(include, i)
		}
		if r.records {
			moved[p.key] = true
		}
	}
	if len(moved) > 0 {
		order := make([]*sessionPartition, 0, len(s.parts))
		var tail []*sessionPartition
		for _, p := range s.parts {
			if moved[p.key] {
				tail = append(tail, p)
			} else {
				order = append(order, p)
			}
		}
		s.parts = append(order, tail...)
	}
	return include, nil
}
