package streams

import (
	"encoding/binary"
	"math/bits"
)

// murmur3Seed is the seed Kafka Streams hashes foreign-key join values
// with (its Murmur3.DEFAULT_SEED).
const murmur3Seed = 104729

// murmur3Hash128 is MurmurHash3 x64 128-bit of data with the given seed,
// the variant Kafka Streams' Murmur3.hash128 computes: the two 64-bit
// halves, h1 first. Blocks and the tail are read little-endian; the seed
// starts both halves (Kafka passes a positive int, so sign extension never
// shows).
func murmur3Hash128(data []byte, seed uint32) (h1, h2 uint64) {
	const (
		c1 = 0x87c37b91114253d5
		c2 = 0x4cf5ad432745937f
	)
	h1, h2 = uint64(seed), uint64(seed)
	n := len(data)
	body := n &^ 15
	for i := 0; i < body; i += 16 {
		k1 := binary.LittleEndian.Uint64(data[i:])
		k2 := binary.LittleEndian.Uint64(data[i+8:])

		k1 *= c1
		k1 = bits.RotateLeft64(k1, 31)
		k1 *= c2
		h1 ^= k1
		h1 = bits.RotateLeft64(h1, 27)
		h1 += h2
		h1 = h1*5 + 0x52dce729

		k2 *= c2
		k2 = bits.RotateLeft64(k2, 33)
		k2 *= c1
		h2 ^= k2
		h2 = bits.RotateLeft64(h2, 31)
		h2 += h1
		h2 = h2*5 + 0x38495ab5
	}

	tail := data[body:]
	var k1, k2 uint64
	for i := len(tail) - 1; i >= 8; i-- {
		k2 ^= uint64(tail[i]) << (8 * (i - 8))
	}
	if len(tail) > 8 {
		k2 *= c2
		k2 = bits.RotateLeft64(k2, 33)
		k2 *= c1
		h2 ^= k2
	}
	for i := min(len(tail), 8) - 1; i >= 0; i-- {
		k1 ^= uint64(tail[i]) << (8 * i)
	}
	if len(tail) > 0 {
		k1 *= c1
		k1 = bits.RotateLeft64(k1, 31)
		k1 *= c2
		h1 ^= k1
	}

	h1 ^= uint64(n)
	h2 ^= uint64(n)
	h1 += h2
	h2 += h1
	h1 = fmix64(h1)
	h2 = fmix64(h2)
	h1 += h2
	h2 += h1
	return h1, h2
}

func fmix64(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return k
}

// valueHash is the 16 bytes a foreign-key join sends for a left value:
// Kafka's Murmur3.hash128 of the serialized value, the two halves as
// big-endian int64s, as its subscription and response wrappers carry them.
func valueHash(serialized []byte) []byte {
	h1, h2 := murmur3Hash128(serialized, murmur3Seed)
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(make([]byte, 0, 16), h1), h2)
}
