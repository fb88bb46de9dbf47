package server

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// conn is one client connection. Its serve loop owns it: it reads a frame,
// handles it, writes the response, and goes on to the next.
type conn struct {
	s    *Server
	nc   net.Conn
	host string // "/" + the peer's IP, as Kafka reports client hosts
	br   *bufio.Reader
	bw   *bufio.Writer
	log  *slog.Logger
	buf  []byte // reused frame buffer
}

func newConn(s *Server, nc net.Conn) *conn {
	host := nc.RemoteAddr().String()
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return &conn{
		s: s, nc: nc, host: "/" + host,
		br:  bufio.NewReaderSize(nc, 64<<10),
		bw:  bufio.NewWriterSize(nc, 64<<10),
		log: s.log.With("remote", nc.RemoteAddr().String()),
	}
}

// closeRead makes a blocked read return so the loop can see shutdown.
func (c *conn) closeRead() { c.nc.SetReadDeadline(time.Now()) }

// request is a decoded request with its header.
type request struct {
	kmsg.Request
	correlationID int32
	clientID      *string
	// clientHost is the peer's address as Kafka reports it ("/" + IP),
	// for group members.
	clientHost string
}

// errClose ends a connection after a protocol violation, as the Java
// broker closes connections it cannot parse.
var errClose = errors.New("server: closing connection")

func (c *conn) serve() {
	defer c.nc.Close()
	for {
		if c.s.isClosing() {
			return
		}
		frame, err := c.readFrame()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !c.s.isClosing() {
				c.log.Debug("connection read ended", "err", err)
			}
			return
		}
		req, err := parseRequest(frame)
		if err != nil {
			var unsupported *unsupportedVersion
			if errors.As(err, &unsupported) && unsupported.key == kmsg.ApiVersions.Int16() {
				// KIP-511: answer with v0 and our ranges so the client
				// can retry with a version we speak.
				resp := apiVersionsResponse(0, kerr.UnsupportedVersion.Code)
				if werr := c.writeResponse(unsupported.correlationID, resp, nil); werr != nil {
					return
				}
				continue
			}
			c.log.Info("closing connection on bad request", "err", err)
			return
		}
		req.clientHost = c.host
		resp, splices, err := c.s.handle(c.s.baseCtx, req)
		if err != nil {
			c.log.Info("closing connection", "api", kmsg.NameForKey(req.Key()), "err", err)
			return
		}
		if resp == nil { // acks=0 produce
			continue
		}
		if err := c.writeResponse(req.correlationID, resp, splices); err != nil {
			c.log.Debug("write failed", "err", err)
			return
		}
	}
}

// readFrame reads one size-prefixed frame into the connection's buffer.
func (c *conn) readFrame() ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(c.br, size[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(size[:]))
	if n < 0 || n > c.s.cfg.MaxRequestBytes {
		return nil, fmt.Errorf("request size %d is outside 0..socket.request.max.bytes (%d)", n, c.s.cfg.MaxRequestBytes)
	}
	if cap(c.buf) < int(n) {
		c.buf = make([]byte, n)
	}
	frame := c.buf[:n]
	if _, err := io.ReadFull(c.br, frame); err != nil {
		return nil, err
	}
	// Keep the buffer only while it is modest; a huge produce should not
	// pin its memory to an idle connection.
	if cap(c.buf) > 1<<20 {
		c.buf = nil
	}
	return frame, nil
}

type unsupportedVersion struct {
	key, version  int16
	correlationID int32
}

func (e *unsupportedVersion) Error() string {
	return fmt.Sprintf("unsupported version %d of %s", e.version, kmsg.NameForKey(e.key))
}

// parseRequest decodes the request header and body. Request header v1
// carries the client ID; v2 (flexible requests) adds tagged fields.
func parseRequest(frame []byte) (*request, error) {
	if len(frame) < 8 {
		return nil, fmt.Errorf("request header: %d bytes", len(frame))
	}
	key := int16(binary.BigEndian.Uint16(frame))
	version := int16(binary.BigEndian.Uint16(frame[2:]))
	corr := int32(binary.BigEndian.Uint32(frame[4:]))
	rest := frame[8:]
	r := &request{correlationID: corr}
	var cid *string
	if len(rest) < 2 {
		return nil, fmt.Errorf("request header: no client id length")
	}
	l := int16(binary.BigEndian.Uint16(rest))
	rest = rest[2:]
	if l >= 0 {
		if len(rest) < int(l) {
			return nil, fmt.Errorf("request header: client id length %d exceeds frame", l)
		}
		s := string(rest[:l])
		cid = &s
		rest = rest[l:]
	}
	r.clientID = cid
	kreq := kmsg.RequestForKey(key)
	if kreq == nil {
		return nil, fmt.Errorf("unknown api key %d", key)
	}
	vr, ok := supported[key]
	if !ok || version < vr.min || version > vr.max {
		return nil, &unsupportedVersion{key: key, version: version, correlationID: corr}
	}
	kreq.SetVersion(version)
	if kreq.IsFlexible() {
		var err error
		if rest, err = skipTags(rest); err != nil {
			return nil, fmt.Errorf("request header tags: %w", err)
		}
	}
	if err := kreq.ReadFrom(rest); err != nil {
		return nil, fmt.Errorf("decode %s v%d: %w", kmsg.NameForKey(key), version, err)
	}
	r.Request = kreq
	return r, nil
}

// skipTags skips a tagged-field section (KIP-482): a uvarint count, then
// per field a uvarint tag, a uvarint size and the bytes.
func skipTags(b []byte) ([]byte, error) {
	n, used := binary.Uvarint(b)
	if used <= 0 {
		return nil, errors.New("bad tag count")
	}
	b = b[used:]
	for range n {
		if _, used = binary.Uvarint(b); used <= 0 {
			return nil, errors.New("bad tag")
		}
		b = b[used:]
		size, used := binary.Uvarint(b)
		if used <= 0 || uint64(len(b)-used) < size {
			return nil, errors.New("bad tag size")
		}
		b = b[used+int(size):]
	}
	return b, nil
}

// handle runs the request's handler. A nil response means none is sent; an
// error closes the connection.
func (s *Server) handle(ctx context.Context, r *request) (kmsg.Response, []splice, error) {
	switch req := r.Request.(type) {
	case *kmsg.ProduceRequest:
		resp := s.handleProduce(ctx, req)
		if req.Acks == 0 {
			return nil, nil, nil
		}
		return resp, nil, nil
	case *kmsg.FetchRequest:
		resp, splices := s.handleFetch(s.fetchCtx, req)
		return resp, splices, nil
	case *kmsg.ListOffsetsRequest:
		return s.handleListOffsets(req), nil, nil
	case *kmsg.MetadataRequest:
		return s.handleMetadata(req), nil, nil
	case *kmsg.ApiVersionsRequest:
		return apiVersionsResponse(req.Version, 0), nil, nil
	case *kmsg.CreateTopicsRequest:
		return s.handleCreateTopics(req), nil, nil
	case *kmsg.DeleteTopicsRequest:
		return s.handleDeleteTopics(req), nil, nil
	case *kmsg.DeleteRecordsRequest:
		return s.handleDeleteRecords(req), nil, nil
	case *kmsg.OffsetForLeaderEpochRequest:
		return s.handleOffsetForLeaderEpoch(req), nil, nil
	case *kmsg.DescribeConfigsRequest:
		return s.handleDescribeConfigs(req), nil, nil
	case *kmsg.AlterConfigsRequest:
		return s.handleAlterConfigs(req), nil, nil
	case *kmsg.DescribeLogDirsRequest:
		return s.handleDescribeLogDirs(req), nil, nil
	case *kmsg.CreatePartitionsRequest:
		return s.handleCreatePartitions(req), nil, nil
	case *kmsg.IncrementalAlterConfigsRequest:
		return s.handleIncrementalAlterConfigs(req), nil, nil
	case *kmsg.DescribeClusterRequest:
		return s.handleDescribeCluster(req), nil, nil
	case *kmsg.OffsetCommitRequest:
		return s.handleOffsetCommit(ctx, req), nil, nil
	case *kmsg.OffsetFetchRequest:
		return s.handleOffsetFetch(ctx, req), nil, nil
	case *kmsg.FindCoordinatorRequest:
		return s.handleFindCoordinator(req), nil, nil
	case *kmsg.JoinGroupRequest:
		return s.handleJoinGroup(ctx, req, deref(r.clientID), r.clientHost), nil, nil
	case *kmsg.HeartbeatRequest:
		return s.handleHeartbeat(ctx, req), nil, nil
	case *kmsg.LeaveGroupRequest:
		return s.handleLeaveGroup(ctx, req), nil, nil
	case *kmsg.SyncGroupRequest:
		return s.handleSyncGroup(ctx, req), nil, nil
	case *kmsg.DescribeGroupsRequest:
		return s.handleDescribeGroups(ctx, req), nil, nil
	case *kmsg.ListGroupsRequest:
		return s.handleListGroups(ctx, req), nil, nil
	case *kmsg.DeleteGroupsRequest:
		return s.handleDeleteGroups(ctx, req), nil, nil
	case *kmsg.OffsetDeleteRequest:
		return s.handleOffsetDelete(ctx, req), nil, nil
	case *kmsg.InitProducerIDRequest:
		return s.handleInitProducerID(ctx, req), nil, nil
	case *kmsg.AddPartitionsToTxnRequest:
		return s.handleAddPartitionsToTxn(ctx, req), nil, nil
	case *kmsg.AddOffsetsToTxnRequest:
		return s.handleAddOffsetsToTxn(ctx, req), nil, nil
	case *kmsg.WriteTxnMarkersRequest:
		return s.handleWriteTxnMarkers(ctx, req), nil, nil
	case *kmsg.EndTxnRequest:
		return s.handleEndTxn(ctx, req), nil, nil
	case *kmsg.DescribeProducersRequest:
		return s.handleDescribeProducers(req), nil, nil
	case *kmsg.DescribeTransactionsRequest:
		return s.handleDescribeTransactions(ctx, req), nil, nil
	case *kmsg.ListTransactionsRequest:
		return s.handleListTransactions(ctx, req), nil, nil
	case *kmsg.TxnOffsetCommitRequest:
		return s.handleTxnOffsetCommit(ctx, req), nil, nil
	}
	return nil, nil, fmt.Errorf("%w: no handler for %s", errClose, kmsg.NameForKey(r.Key()))
}

// writeResponse writes one response frame: size, correlation ID, the
// response header's tagged fields for flexible responses (never for
// ApiVersions, whose response header stays v0), and the body, with the
// segment-file splices written by sendfile.
func (c *conn) writeResponse(corr int32, resp kmsg.Response, splices []splice) error {
	body := make([]byte, 4, 64)
	binary.BigEndian.PutUint32(body, uint32(corr))
	if resp.IsFlexible() && resp.Key() != kmsg.ApiVersions.Int16() {
		body = append(body, 0)
	}
	body = resp.AppendTo(body)
	parts, err := spliceBody(body, 0, splices, resp.IsFlexible())
	if err != nil {
		return err
	}
	total := 0
	for _, p := range parts {
		total += p.size()
	}
	var size [4]byte
	binary.BigEndian.PutUint32(size[:], uint32(total))
	if _, err := c.bw.Write(size[:]); err != nil {
		return err
	}
	for _, p := range parts {
		if p.file == nil {
			if _, err := c.bw.Write(p.bytes); err != nil {
				return err
			}
			continue
		}
		if err := c.bw.Flush(); err != nil {
			return err
		}
		if err := writeFileRange(c.nc, p.file, p.pos, p.n); err != nil {
			return err
		}
	}
	return c.bw.Flush()
}
