package server_test

import (
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/runnel/runnel/broker/brokertest"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// roundTrip writes one request frame for req at version v and reads one
// response frame, returning its body after the correlation ID.
func roundTrip(t *testing.T, c net.Conn, req kmsg.Request, v int16, corr int32) ([]byte, error) {
	t.Helper()
	req.SetVersion(v)
	frame := kmsg.NewRequestFormatter(kmsg.FormatterClientID("test")).AppendRequest(nil, req, corr)
	if _, err := c.Write(frame); err != nil {
		return nil, err
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var size [4]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		return nil, err
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(c, body); err != nil {
		return nil, err
	}
	if got := int32(binary.BigEndian.Uint32(body)); got != corr {
		t.Fatalf("correlation id %d, want %d", got, corr)
	}
	return body[4:], nil
}

// An ApiVersions request newer than the broker's is answered in v0 with
// UNSUPPORTED_VERSION and the broker's ranges (KIP-511), on a connection
// that stays usable; an unsupported version of another API closes only
// that connection.
func TestUnsupportedVersions(t *testing.T) {
	srv := brokertest.Start(t)
	c, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	body, err := roundTrip(t, c, kmsg.NewPtrApiVersionsRequest(), 99, 1)
	if err != nil {
		t.Fatal(err)
	}
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.SetVersion(0)
	if err := resp.ReadFrom(body); err != nil {
		t.Fatalf("decoding as v0: %v", err)
	}
	if resp.ErrorCode != kerr.UnsupportedVersion.Code {
		t.Fatalf("error %v, want UNSUPPORTED_VERSION", kerr.ErrorForCode(resp.ErrorCode))
	}
	var maxAPIVersions int16 = -1
	for _, k := range resp.ApiKeys {
		if k.ApiKey == kmsg.ApiVersions.Int16() {
			maxAPIVersions = k.MaxVersion
		}
	}
	if maxAPIVersions < 3 {
		t.Fatalf("ApiVersions range not advertised usefully: max %d", maxAPIVersions)
	}

	// The client retries with a version the broker speaks, on the same connection.
	body, err = roundTrip(t, c, kmsg.NewPtrApiVersionsRequest(), maxAPIVersions, 2)
	if err != nil {
		t.Fatalf("retry on the same connection: %v", err)
	}
	resp = kmsg.NewPtrApiVersionsResponse()
	resp.SetVersion(maxAPIVersions)
	if err := resp.ReadFrom(body); err != nil || resp.ErrorCode != 0 || len(resp.ApiKeys) == 0 {
		t.Fatalf("retry: %v, error %d, %d keys", err, resp.ErrorCode, len(resp.ApiKeys))
	}

	// Produce v2 (message sets v0/v1) is below what Runnel serves: the
	// connection is closed, as the Java broker closes it.
	if _, err := roundTrip(t, c, kmsg.NewPtrProduceRequest(), 2, 3); err == nil {
		t.Fatal("produce v2 was answered")
	}
	// Other connections are unaffected.
	c2, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, err := roundTrip(t, c2, kmsg.NewPtrApiVersionsRequest(), 3, 4); err != nil {
		t.Fatalf("a new connection after the close: %v", err)
	}
}
