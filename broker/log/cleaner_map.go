package log

import (
	"hash/maphash"
	"math/bits"
)

// offsetMap is the cleaner's dedupe map: for every key of the dirty
// section, the offset of its latest record. As in Kafka, it holds a
// fixed-size fingerprint of each key instead of the key, so its memory is
// fixed up front (log.cleaner.dedupe.buffer.size) whatever the keys look
// like: a slot is 24 bytes, a 128-bit fingerprint and the offset.
//
// The fingerprint is two 64-bit maphash values with independent random
// seeds. Two distinct keys share one only by chance, about n²/2¹²⁹ for n
// keys (below 10⁻²⁵ for the 5 million keys of a 128 MiB map), and the seeds
// are secret, so producers cannot aim for a collision. A collision would
// make the cleaner treat the older key's latest record as superseded: the
// risk Kafka takes with its MD5 fingerprints.
//
// Slots are found by open addressing with linear probing from a position
// taken from the first hash. At most loadFactor of the slots are used, so
// a probe always ends at an empty slot.
type offsetMap struct {
	seeds [2]maphash.Seed
	slots []mapSlot
	used  int
	limit int // most slots that may be used
	// latest is the last offset the map accounts for (Kafka's
	// latestOffset): every record at or below it whose key is in the map
	// is superseded by the mapped offset when it is lower. Records above it
	// were not looked at.
	latest int64
}

// mapSlot is one entry: the key's fingerprint and its offset plus one (0
// marks an empty slot, so clearing the map is clearing memory).
type mapSlot struct {
	h1, h2 uint64
	off    int64
}

// mapSlotSize is the memory of one slot.
const mapSlotSize = 24

// newOffsetMap sizes a map to memory bytes, of which loadFactor may be
// used.
func newOffsetMap(memory int64, loadFactor float64) *offsetMap {
	n := max(int(memory/mapSlotSize), 2)
	limit := min(max(int(float64(n)*loadFactor), 1), n-1)
	return &offsetMap{
		seeds:  [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		slots:  make([]mapSlot, n),
		limit:  limit,
		latest: -1,
	}
}

// reset empties the map for a new clean; latest becomes before-1.
func (m *offsetMap) reset(before int64) {
	clear(m.slots)
	m.used = 0
	m.latest = before - 1
}

// room reports whether n more keys surely fit.
func (m *offsetMap) room(n int) bool { return m.used+n <= m.limit }

func (m *offsetMap) hash(key []byte) (h1, h2 uint64, i int) {
	h1 = maphash.Bytes(m.seeds[0], key)
	h2 = maphash.Bytes(m.seeds[1], key)
	hi, _ := bits.Mul64(h1, uint64(len(m.slots)))
	return h1, h2, int(hi)
}

// put records offset as key's latest offset. It returns false, changing
// nothing, when key is new and the map is full.
func (m *offsetMap) put(key []byte, offset int64) bool {
	h1, h2, i := m.hash(key)
	for {
		s := &m.slots[i]
		switch {
		case s.off == 0:
			if m.used >= m.limit {
				return false
			}
			*s = mapSlot{h1: h1, h2: h2, off: offset + 1}
			m.used++
			return true
		case s.h1 == h1 && s.h2 == h2:
			s.off = offset + 1
			return true
		}
		if i++; i == len(m.slots) {
			i = 0
		}
	}
}

// get returns key's latest offset, or -1 when the key is not in the map.
func (m *offsetMap) get(key []byte) int64 {
	h1, h2, i := m.hash(key)
	for {
		s := &m.slots[i]
		switch {
		case s.off == 0:
			return -1
		case s.h1 == h1 && s.h2 == h2:
			return s.off - 1
		}
		if i++; i == len(m.slots) {
			i = 0
		}
	}
}
