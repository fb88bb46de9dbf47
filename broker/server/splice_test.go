package server

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// A spliced Fetch response is byte for byte the response kmsg encodes with
// the records inline, for every Fetch version served.
func TestSplicedFetchEqualsInline(t *testing.T) {
	file := bytes.NewReader(bytes.Repeat([]byte("0123456789abcdef"), 1000))
	ranges := []struct {
		pos int64
		n   int
	}{{0, 100}, {160, 5000}, {7, 1}, {0, 0}}
	for v := supported[kmsg.Fetch.Int16()].min; v <= supported[kmsg.Fetch.Int16()].max; v++ {
		build := func(inline bool) (*kmsg.FetchResponse, []splice) {
			resp := kmsg.NewPtrFetchResponse()
			resp.SetVersion(v)
			mk := newMarkers()
			var splices []splice
			for ti := range 2 {
				rt := kmsg.NewFetchResponseTopic()
				rt.Topic = "topic" + string(rune('a'+ti))
				for pi, r := range ranges {
					rp := kmsg.NewFetchResponseTopicPartition()
					rp.Partition = int32(pi)
					rp.HighWatermark = int64(100 * pi)
					switch {
					case r.n == 0:
						rp.RecordBatches = []byte{}
					case inline:
						rp.RecordBatches = make([]byte, r.n)
						file.ReadAt(rp.RecordBatches, r.pos)
					default:
						sp := mk.splice(file, r.pos, r.n)
						rp.RecordBatches = sp.marker
						splices = append(splices, sp)
					}
					rt.Partitions = append(rt.Partitions, rp)
				}
				resp.Topics = append(resp.Topics, rt)
			}
			return resp, splices
		}
		inline, _ := build(true)
		want := inline.AppendTo(nil)

		spliced, splices := build(false)
		a, b := net.Pipe()
		c := &conn{nc: a, bw: bufio.NewWriter(a)}
		errc := make(chan error, 1)
		go func() { errc <- c.writeResponse(42, spliced, splices); a.Close() }()
		got, err := io.ReadAll(b)
		if err != nil || <-errc != nil {
			t.Fatalf("v%d: write: %v", v, err)
		}
		size := binary.BigEndian.Uint32(got)
		if int(size) != len(got)-4 {
			t.Fatalf("v%d: frame size %d, frame has %d bytes", v, size, len(got)-4)
		}
		if corr := binary.BigEndian.Uint32(got[4:]); corr != 42 {
			t.Fatalf("v%d: correlation id %d", v, corr)
		}
		body := got[8:]
		if inline.IsFlexible() {
			body = body[1:] // response header tags
		}
		if !bytes.Equal(body, want) {
			t.Fatalf("v%d: spliced response differs from the inline encoding", v)
		}
	}
}
