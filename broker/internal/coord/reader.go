package coord

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrShort is the Reader's error when a field runs past the end of its
// input.
var ErrShort = errors.New("coord: truncated")

// Reader decodes the big-endian fields of Kafka's internal record formats
// (the keys and values of __consumer_offsets and __transaction_state, and
// the consumer protocol's metadata). It remembers the first error; once it
// has one, every read returns a zero value and B is empty. Each
// coordinator adds the string, array and tagged-field forms its formats
// use on top of it.
type Reader struct {
	// B is the input not yet read.
	B []byte
	// Err is the first error met, nil while every read succeeded.
	Err error
}

// Fail records err unless an earlier error is recorded, and drops the
// rest of the input.
func (r *Reader) Fail(err error) {
	if r.Err == nil {
		r.Err = err
	}
	r.B = nil
}

// Take returns the next n bytes, nil after an error or when fewer are
// left. The result shares the input's memory and cannot grow into the
// bytes after it.
func (r *Reader) Take(n int) []byte {
	if r.Err != nil {
		return nil
	}
	if n < 0 || n > len(r.B) {
		r.Fail(fmt.Errorf("%w: need %d bytes, have %d", ErrShort, n, len(r.B)))
		return nil
	}
	p := r.B[:n:n]
	r.B = r.B[n:]
	return p
}

// Int8 reads one byte as a signed integer.
func (r *Reader) Int8() int8 {
	if p := r.Take(1); p != nil {
		return int8(p[0])
	}
	return 0
}

// Int16 reads a big-endian int16.
func (r *Reader) Int16() int16 {
	if p := r.Take(2); p != nil {
		return int16(binary.BigEndian.Uint16(p))
	}
	return 0
}

// Int32 reads a big-endian int32.
func (r *Reader) Int32() int32 {
	if p := r.Take(4); p != nil {
		return int32(binary.BigEndian.Uint32(p))
	}
	return 0
}

// Int64 reads a big-endian int64.
func (r *Reader) Int64() int64 {
	if p := r.Take(8); p != nil {
		return int64(binary.BigEndian.Uint64(p))
	}
	return 0
}

// Uvarint reads an unsigned varint, as the lengths and tags of flexible
// versions are written.
func (r *Reader) Uvarint() uint64 {
	if r.Err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.B)
	if n <= 0 {
		r.Fail(errors.New("coord: bad unsigned varint"))
		return 0
	}
	r.B = r.B[n:]
	return v
}

// Tags reads a tagged-field section of a flexible version (a count, then
// per field a tag, a size and the bytes), calling fn for each field.
func (r *Reader) Tags(fn func(tag uint64, data []byte)) {
	n := r.Uvarint()
	if n > uint64(len(r.B)) {
		r.Fail(fmt.Errorf("coord: %d tagged fields with %d bytes left", n, len(r.B)))
		return
	}
	for range n {
		tag := r.Uvarint()
		size := r.Uvarint()
		if r.Err == nil && size > uint64(len(r.B)) {
			r.Fail(fmt.Errorf("%w: tagged field of %d bytes with %d left", ErrShort, size, len(r.B)))
		}
		data := r.Take(int(size))
		if r.Err != nil {
			return
		}
		fn(tag, data)
	}
}

// SkipTags reads a tagged-field section and ignores its fields.
func (r *Reader) SkipTags() { r.Tags(func(uint64, []byte) {}) }
