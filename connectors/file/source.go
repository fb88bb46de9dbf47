package file

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/runnel/runnel/connect/configdef"
	"github.com/runnel/runnel/connect/connector"
	"github.com/runnel/runnel/connect/data"
)

// Offset keys of FileStreamSource, as Kafka names them.
const (
	FilenameField = "filename"
	PositionField = "position"
)

// ErrOffset reports a stored offset FileStreamSource cannot resume from.
var ErrOffset = errors.New("file: invalid source offset")

// SourceConfig is FileStreamSource's configuration.
type SourceConfig struct {
	File      string `config:"file"`       // file; empty = standard input
	Topic     string `config:"topic"`      // topic
	BatchSize int    `config:"batch.size"` // batch.size
}

func sourceDef() *configdef.Def {
	return configdef.New().
		Define(configdef.Key{Name: "file", Type: configdef.String, Default: nil, Importance: configdef.High,
			Documentation: "File whose lines are read; standard input when unset."}).
		Define(configdef.Key{Name: "topic", Type: configdef.String, Default: configdef.NoDefault,
			Validator: configdef.NonEmptyString(), Importance: configdef.High,
			Documentation: "Topic the lines are produced to."}).
		Define(configdef.Key{Name: "batch.size", Type: configdef.Int, Default: 2000,
			Validator: configdef.AtLeast(1), Importance: configdef.Low,
			Documentation: "Most lines one poll returns."})
}

// Source is the FileStreamSource connector. It runs one task.
type Source struct {
	props map[string]string
}

var _ connector.SourceConnector = (*Source)(nil)

// NewSource returns a FileStreamSource connector.
func NewSource() *Source { return &Source{} }

// Version implements connector.Connector.
func (*Source) Version() string { return Version }

// ConfigDef declares file, topic and batch.size.
func (*Source) ConfigDef() *configdef.Def { return sourceDef() }

// Start validates the configuration.
func (s *Source) Start(_ connector.ConnectorContext, props map[string]string) error {
	var cfg SourceConfig
	if err := sourceDef().Decode(props, &cfg); err != nil {
		return err
	}
	s.props = props
	return nil
}

// TaskConfigs returns one task: a file has one reader.
func (s *Source) TaskConfigs(int) ([]map[string]string, error) {
	return []map[string]string{maps.Clone(s.props)}, nil
}

// Stop has nothing to stop.
func (*Source) Stop() error { return nil }

var _ connector.SourceOffsetAlterer = (*Source)(nil)

// AlterOffsets checks offsets written through the REST API, as Kafka's
// FileStreamSourceConnector does: the connector must read a file (standard
// input keeps no offsets), every partition must name a filename, and every
// offset must be null or hold a non-negative integer position. Whether the
// position fits the file is checked when the task resumes.
func (*Source) AlterOffsets(config map[string]string, offsets []connector.PartitionOffset) error {
	var cfg SourceConfig
	if err := sourceDef().Decode(config, &cfg); err != nil {
		return err
	}
	if cfg.File == "" {
		return fmt.Errorf("%w: offsets cannot be modified if the 'file' configuration is unspecified, "+
			"because standard input is used and offsets are not tracked", ErrOffset)
	}
	for _, po := range offsets {
		if po.Partition == nil {
			return fmt.Errorf("%w: partition objects cannot be null", ErrOffset)
		}
		if _, ok := po.Partition[FilenameField]; !ok {
			return fmt.Errorf("%w: partition objects should contain the key '%s'", ErrOffset, FilenameField)
		}
		if po.Offset == nil {
			continue // a reset is always allowed
		}
		v, ok := po.Offset[PositionField]
		if !ok {
			return fmt.Errorf("%w: offset objects should either be null or contain the key '%s'", ErrOffset, PositionField)
		}
		if _, err := position(v); err != nil {
			return err
		}
	}
	return nil
}

// NewTask returns a task reading the file.
func (*Source) NewTask() connector.SourceTask { return NewSourceTask() }

// pollWait is how long Poll waits when the file is missing or has no new
// data, as Kafka's task does.
const pollWait = time.Second

const readChunk = 64 << 10

// SourceTask reads lines from the file. Poll and Commit run on the task's
// goroutine; Stop may run on another and wakes a waiting Poll.
type SourceTask struct {
	stdin io.Reader // standard input; os.Stdin unless a test sets it

	cfg     SourceConfig
	offsets connector.OffsetReader
	in      io.Reader // nil until the file is opened
	buf     []byte    // bytes read but not yet returned as lines
	pos     int64     // file position of buf[0]
	// partition is the source partition every record carries.
	partition map[string]any

	mu   sync.Mutex // guards file
	file *os.File

	stopOnce sync.Once
	stop     chan struct{}
}

var _ connector.SourceTask = (*SourceTask)(nil)

// NewSourceTask returns an unstarted task.
func NewSourceTask() *SourceTask {
	return &SourceTask{stdin: os.Stdin, stop: make(chan struct{})}
}

// Version implements connector.SourceTask.
func (*SourceTask) Version() string { return Version }

// Start reads the configuration; the file is opened by the first Poll.
func (t *SourceTask) Start(ctx connector.SourceTaskContext, props map[string]string) error {
	if err := sourceDef().Decode(props, &t.cfg); err != nil {
		return err
	}
	t.offsets = ctx.Offsets()
	if t.cfg.File == "" {
		t.in = t.stdin
	}
	return nil
}

func (t *SourceTask) stopped() bool {
	select {
	case <-t.stop:
		return true
	default:
		return false
	}
}

// wait sleeps pollWait, or until ctx ends or Stop is called.
func (t *SourceTask) wait(ctx context.Context) {
	timer := time.NewTimer(pollWait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-t.stop:
	case <-timer.C:
	}
}

// open opens the file and moves to the committed position. It returns
// false, nil when the file does not exist yet.
func (t *SourceTask) open() (bool, error) {
	f, err := os.Open(t.cfg.File)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("file: open %s: %w", t.cfg.File, err)
	}
	var pos int64
	off, err := t.offsets.Offset(map[string]any{FilenameField: t.cfg.File})
	if err != nil {
		f.Close()
		return false, fmt.Errorf("file: read offset of %s: %w", t.cfg.File, err)
	}
	if off != nil && off[PositionField] != nil {
		if pos, err = position(off[PositionField]); err != nil {
			f.Close()
			return false, err
		}
	}
	if pos > 0 {
		if _, err := f.Seek(pos, io.SeekStart); err != nil {
			f.Close()
			return false, fmt.Errorf("file: seek %s to %d: %w", t.cfg.File, pos, err)
		}
	}
	t.mu.Lock()
	if t.stopped() {
		t.mu.Unlock()
		f.Close()
		return false, nil
	}
	t.file = f
	t.mu.Unlock()
	t.in, t.pos = f, pos
	return true, nil
}

// position decodes a stored position, which an offset store may hand back as
// any JSON number type.
func position(v any) (int64, error) {
	var n int64
	switch x := v.(type) {
	case int64:
		n = x
	case int:
		n = int64(x)
	case int32:
		n = int64(x)
	case float64:
		if x != math.Trunc(x) || x > math.MaxInt64 {
			return 0, fmt.Errorf("%w: %s %v is not an integer", ErrOffset, PositionField, x)
		}
		n = int64(x)
	case json.Number:
		i, err := x.Int64()
		if err != nil {
			return 0, fmt.Errorf("%w: %s %v: %w", ErrOffset, PositionField, x, err)
		}
		n = i
	default:
		return 0, fmt.Errorf("%w: %s has type %T, want a number", ErrOffset, PositionField, v)
	}
	if n < 0 {
		return 0, fmt.Errorf("%w: %s %d is negative", ErrOffset, PositionField, n)
	}
	return n, nil
}

// Poll returns up to batch.size lines. When the file is missing or has no
// complete new line it waits up to a second (less if ctx ends or the task
// stops) and returns what it has, possibly nothing.
func (t *SourceTask) Poll(ctx context.Context) ([]connector.SourceRecord, error) {
	if t.stopped() {
		return nil, nil
	}
	if t.in == nil {
		ok, err := t.open()
		if err != nil {
			return nil, err
		}
		if !ok {
			t.wait(ctx)
			return nil, nil
		}
	}
	var records []connector.SourceRecord
	now := time.Now().UnixMilli() // one timestamp per poll
	for {
		for len(records) < t.cfg.BatchSize {
			line, ok := t.nextLine()
			if !ok {
				break
			}
			if records == nil {
				records = make([]connector.SourceRecord, 0, min(t.cfg.BatchSize, 1024))
			}
			records = append(records, t.record(line, &now))
		}
		if len(records) >= t.cfg.BatchSize {
			return records, nil
		}
		n, err := t.read()
		if n > 0 {
			continue
		}
		if err != nil && err != io.EOF {
			if t.stopped() {
				return records, nil
			}
			return records, fmt.Errorf("file: read %s: %w", t.name(), err)
		}
		// Caught up with the end of the file.
		if len(records) == 0 {
			t.wait(ctx)
		}
		return records, nil
	}
}

// read reads more of the input into buf's spare capacity. buf is cut from
// the front as lines are taken, so when little room is left the unconsumed
// bytes move to a fresh buffer (twice their size, at least readChunk).
func (t *SourceTask) read() (int, error) {
	if cap(t.buf)-len(t.buf) < readChunk/4 {
		nb := make([]byte, len(t.buf), max(2*len(t.buf), readChunk))
		copy(nb, t.buf)
		t.buf = nb
	}
	n, err := t.in.Read(t.buf[len(t.buf):cap(t.buf)])
	t.buf = t.buf[:len(t.buf)+n]
	return n, err
}

// nextLine cuts the next complete line from buf. A '\r' at the very end
// is not yet a line end: it may be the start of "\r\n".
func (t *SourceTask) nextLine() (string, bool) {
	i := bytes.IndexByte(t.buf, '\n')
	head := t.buf
	if i >= 0 {
		head = t.buf[:i]
	}
	if j := bytes.IndexByte(head, '\r'); j >= 0 {
		i = j
	}
	if i < 0 {
		return "", false
	}
	next := i + 1
	if t.buf[i] == '\r' {
		if i+1 >= len(t.buf) {
			return "", false
		}
		if t.buf[i+1] == '\n' {
			next = i + 2
		}
	}
	var line string
	if utf8.Valid(t.buf[:i]) {
		line = string(t.buf[:i])
	} else {
		line = strings.ToValidUTF8(string(t.buf[:i]), "\uFFFD")
	}
	t.buf = t.buf[next:]
	t.pos += int64(next)
	return line, true
}

func (t *SourceTask) name() string {
	if t.cfg.File == "" {
		return "stdin"
	}
	return t.cfg.File
}

var lineSchema = data.Required(data.TypeString)

// record makes the record of one line. Records of a poll share their
// timestamp and all records share the source partition map, which must not
// be modified.
func (t *SourceTask) record(line string, now *int64) connector.SourceRecord {
	r := connector.SourceRecord{
		Record: connector.Record{Topic: t.cfg.Topic, ValueSchema: lineSchema, Value: line, Timestamp: now},
	}
	if t.partition == nil {
		if t.cfg.File == "" {
			t.partition = map[string]any{FilenameField: nil}
		} else {
			t.partition = map[string]any{FilenameField: t.cfg.File}
		}
	}
	r.SourcePartition = t.partition
	if t.cfg.File == "" {
		// Standard input has no position to resume from, as in Kafka.
		r.SourceOffset = map[string]any{PositionField: nil}
	} else {
		r.SourceOffset = map[string]any{PositionField: t.pos}
	}
	return r
}

// Commit has nothing to do: offsets are the runtime's.
func (*SourceTask) Commit() error { return nil }

// CommitRecord has nothing to do.
func (*SourceTask) CommitRecord(connector.SourceRecord, int64) error { return nil }

// Stop closes the file and wakes a waiting Poll. A Poll blocked reading
// standard input is not interrupted.
func (t *SourceTask) Stop() error {
	t.stopOnce.Do(func() { close(t.stop) })
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.file != nil {
		err := t.file.Close()
		t.file = nil
		if err != nil && !errors.Is(err, os.ErrClosed) {
			return fmt.Errorf("file: close %s: %w", t.cfg.File, err)
		}
	}
	return nil
}
