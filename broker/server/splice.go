package server

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"syscall"
)

// A Fetch response is encoded by kmsg like every other response, but its
// record bytes should go from the segment file to the socket without
// passing through user space. Each partition whose records come from a file
// gets a unique 16-byte marker as its RecordBatches; after encoding, the
// marker and its length prefix are cut out and replaced by the real length
// prefix and the file range. Markers carry a random per-response nonce, so
// no other bytes of the response can be mistaken for one.

const markerLen = 16

// splice is one partition's records: a marker in the encoded response and
// the file range that replaces it.
type splice struct {
	marker []byte
	file   io.ReaderAt
	pos    int64
	n      int
}

// markers hands out the markers of one response.
type markers struct {
	nonce [12]byte
	next  uint32
}

func newMarkers() *markers {
	m := &markers{}
	binary.LittleEndian.PutUint64(m.nonce[:], rand.Uint64())
	binary.LittleEndian.PutUint32(m.nonce[8:], rand.Uint32())
	return m
}

func (m *markers) splice(f io.ReaderAt, pos int64, n int) splice {
	b := make([]byte, markerLen)
	copy(b, m.nonce[:])
	binary.BigEndian.PutUint32(b[12:], m.next)
	m.next++
	return splice{marker: b, file: f, pos: pos, n: n}
}

// part is one piece of a response on the wire: bytes, or a file range.
type part struct {
	bytes []byte
	file  io.ReaderAt
	pos   int64
	n     int
}

func (p part) size() int {
	if p.file != nil {
		return p.n
	}
	return len(p.bytes)
}

// spliceBody cuts body into parts, replacing each splice's marker (and the
// length prefix kmsg wrote for it) with the real prefix and file range.
// Markers appear in body in the order they were handed out.
func spliceBody(body []byte, from int, splices []splice, flexible bool) ([]part, error) {
	if len(splices) == 0 {
		return []part{{bytes: body}}, nil
	}
	var prefix []byte
	if flexible {
		prefix = binary.AppendUvarint(nil, markerLen+1) // compact bytes: length+1
	} else {
		prefix = binary.BigEndian.AppendUint32(nil, markerLen)
	}
	parts := make([]part, 0, 2*len(splices)+1)
	pos := from
	for _, s := range splices {
		i := bytes.Index(body[pos:], s.marker)
		if i < 0 {
			return nil, errors.New("server: fetch splice marker not found in encoded response")
		}
		at := pos + i
		start := at - len(prefix)
		if start < pos || !bytes.Equal(body[start:at], prefix) {
			return nil, errors.New("server: fetch splice marker has an unexpected length prefix")
		}
		head := body[pos:start:start]
		if flexible {
			head = binary.AppendUvarint(head[:len(head):len(head)], uint64(s.n)+1)
		} else {
			head = binary.BigEndian.AppendUint32(head[:len(head):len(head)], uint32(s.n))
		}
		parts = append(parts, part{bytes: head}, part{file: s.file, pos: s.pos, n: s.n})
		pos = at + markerLen
	}
	return append(parts, part{bytes: body[pos:]}), nil
}

// writeFileRange writes n bytes of f from pos to w: with sendfile(2) when w
// is a TCP connection and f an OS file, otherwise by copying.
func writeFileRange(w net.Conn, f io.ReaderAt, pos int64, n int) error {
	tcp, okc := w.(*net.TCPConn)
	osf, okf := f.(*os.File)
	if okc && okf {
		return sendfile(tcp, osf, pos, n)
	}
	written, err := io.Copy(w, io.NewSectionReader(f, pos, int64(n)))
	if err == nil && written != int64(n) {
		err = fmt.Errorf("server: segment range ended after %d of %d bytes", written, n)
	}
	return err
}

func sendfile(dst *net.TCPConn, src *os.File, pos int64, n int) error {
	srcConn, err := src.SyscallConn()
	if err != nil {
		return err
	}
	var srcFD int
	if err := srcConn.Control(func(fd uintptr) { srcFD = int(fd) }); err != nil {
		return err
	}
	dstConn, err := dst.SyscallConn()
	if err != nil {
		return err
	}
	var werr error
	off := pos
	remain := n
	err = dstConn.Write(func(fd uintptr) bool {
		for remain > 0 {
			w, err := syscall.Sendfile(int(fd), srcFD, &off, remain)
			if w > 0 {
				remain -= w
			}
			switch {
			case errors.Is(err, syscall.EAGAIN):
				return false // wait until the socket is writable
			case errors.Is(err, syscall.EINTR):
				continue
			case err != nil:
				werr = err
				return true
			case w == 0:
				werr = fmt.Errorf("server: segment file ended %d bytes early", remain)
				return true
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	return werr
}
