package connect

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// OffsetStore keeps the source offsets of source connectors: for each
// connector, its source partitions and the offset reached in each. The
// standalone worker uses a FileOffsetStore; the distributed worker keeps
// them in offset.storage.topic.
type OffsetStore interface {
	// Offsets returns every stored partition and offset of a connector,
	// with JSON numbers that are integers as int64, others as float64.
	Offsets(ctx context.Context, connector string) ([]ConnectorOffset, error)
	// Write stores offsets durably before it returns; an entry with a nil
	// Offset removes its partition.
	Write(ctx context.Context, connector string, offsets []ConnectorOffset) error
}

// PartitionKey is the canonical form of a source partition: JSON-like
// text with keys sorted and numbers normalized as NormalizeJSON does, so
// that two partitions are the same when their keys are equal (5, int64(5)
// and 5.0 alike). Flat partitions of strings, numbers and booleans, the
// usual case, are encoded without reflection.
func PartitionKey(partition map[string]any) string {
	keys := make([]string, 0, len(partition))
	for k := range partition {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(k))
		b.WriteByte(':')
		switch v := NormalizeJSON(partition[k]).(type) {
		case nil:
			b.WriteString("null")
		case string:
			b.WriteString(strconv.Quote(v))
		case bool:
			b.WriteString(strconv.FormatBool(v))
		case int64:
			b.WriteString(strconv.FormatInt(v, 10))
		case float64:
			b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		default:
			j, err := json.Marshal(v)
			if err != nil {
				j = []byte(fmt.Sprintf("%#v", v))
			}
			b.Write(j)
		}
	}
	b.WriteByte('}')
	return b.String()
}

// NormalizeJSON returns v with JSON numbers (json.Number, float64 holding
// an integer, any Go integer) as int64 where they are integers and float64
// otherwise, recursively, so that offsets read back from storage compare
// equal to those written.
func NormalizeJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case float64:
		if x == float64(int64(x)) && x >= -1<<53 && x <= 1<<53 {
			return int64(x)
		}
		return x
	case float32:
		return NormalizeJSON(float64(x))
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = NormalizeJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = NormalizeJSON(e)
		}
		return out
	}
	return v
}

func normalizeMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	return NormalizeJSON(m).(map[string]any)
}

// MemoryOffsetStore is an OffsetStore in memory, for tests.
type MemoryOffsetStore struct {
	mu   sync.Mutex
	data map[string]map[string]ConnectorOffset // connector → partition key → offset
}

// NewMemoryOffsetStore returns an empty MemoryOffsetStore.
func NewMemoryOffsetStore() *MemoryOffsetStore {
	return &MemoryOffsetStore{data: make(map[string]map[string]ConnectorOffset)}
}

// Offsets implements OffsetStore.
func (s *MemoryOffsetStore) Offsets(_ context.Context, connector string) ([]ConnectorOffset, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sortedOffsets(s.data[connector]), nil
}

// Write implements OffsetStore.
func (s *MemoryOffsetStore) Write(_ context.Context, connector string, offsets []ConnectorOffset) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	apply(s.data, connector, offsets)
	return nil
}

func apply(data map[string]map[string]ConnectorOffset, connector string, offsets []ConnectorOffset) {
	m := data[connector]
	if m == nil {
		m = make(map[string]ConnectorOffset)
		data[connector] = m
	}
	for _, o := range offsets {
		p := normalizeMap(o.Partition)
		k := PartitionKey(p)
		if o.Offset == nil {
			delete(m, k)
			continue
		}
		m[k] = ConnectorOffset{Partition: p, Offset: normalizeMap(o.Offset)}
	}
	if len(m) == 0 {
		delete(data, connector)
	}
}

func sortedOffsets(m map[string]ConnectorOffset) []ConnectorOffset {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]ConnectorOffset, 0, len(keys))
	for _, k := range keys {
		out = append(out, m[k])
	}
	return out
}

// FileOffsetStore is the standalone worker's OffsetStore in one file
// (offset.storage.file.filename). The file is JSON:
//
//	{"offsets":[{"key":["<connector>",{partition}],"value":{offset}}, …]}
//
// with each entry's key and value as Kafka writes them to
// offset.storage.topic. Every Write replaces the file atomically: the new
// contents go to a temporary file in the same directory, which is synced
// and renamed over the old one, and the directory is synced.
type FileOffsetStore struct {
	path string
	mu   sync.Mutex
	data map[string]map[string]ConnectorOffset
}

// fileOffsets is the file's JSON.
type fileOffsets struct {
	Offsets []fileOffset `json:"offsets"`
}

type fileOffset struct {
	Key   json.RawMessage `json:"key"`
	Value json.RawMessage `json:"value"`
}

// OpenFileOffsetStore reads the offsets in path; a missing file is empty.
func OpenFileOffsetStore(path string) (*FileOffsetStore, error) {
	s := &FileOffsetStore{path: path, data: make(map[string]map[string]ConnectorOffset)}
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("connect: offsets: %w", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return s, nil
	}
	if err := decodeOffsetFile(b, s.data); err != nil {
		return nil, fmt.Errorf("connect: offsets file %s: %w", path, err)
	}
	return s, nil
}

// decodeOffsetFile parses the offsets file into data.
func decodeOffsetFile(b []byte, data map[string]map[string]ConnectorOffset) error {
	var f fileOffsets
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&f); err != nil {
		return err
	}
	for i, e := range f.Offsets {
		var key []json.RawMessage
		if err := json.Unmarshal(e.Key, &key); err != nil || len(key) != 2 {
			return fmt.Errorf("entry %d: key is not [connector, partition]", i)
		}
		var name string
		if err := json.Unmarshal(key[0], &name); err != nil {
			return fmt.Errorf("entry %d: connector name: %v", i, err)
		}
		part, err := decodeJSONObject(key[1])
		if err != nil || part == nil {
			return fmt.Errorf("entry %d: partition is not a JSON object", i)
		}
		off, err := decodeJSONObject(e.Value)
		if err != nil {
			return fmt.Errorf("entry %d: offset is not a JSON object", i)
		}
		apply(data, name, []ConnectorOffset{{Partition: part, Offset: off}})
	}
	return nil
}

func decodeJSONObject(b []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	if err := checkNumbers(m); err != nil {
		return nil, err
	}
	return normalizeMap(m), nil
}

// checkNumbers refuses a number beyond float64's range (such as 1e400):
// it would read as an infinity, which JSON cannot hold, so the offsets
// could never be written back.
func checkNumbers(v any) error {
	switch x := v.(type) {
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return nil
		}
		if _, err := x.Float64(); err != nil {
			return fmt.Errorf("number %s is out of range", x)
		}
	case map[string]any:
		for _, e := range x {
			if err := checkNumbers(e); err != nil {
				return err
			}
		}
	case []any:
		for _, e := range x {
			if err := checkNumbers(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// Offsets implements OffsetStore.
func (s *FileOffsetStore) Offsets(_ context.Context, connector string) ([]ConnectorOffset, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sortedOffsets(s.data[connector]), nil
}

// Write implements OffsetStore: the file holds the new offsets when it
// returns.
func (s *FileOffsetStore) Write(_ context.Context, connector string, offsets []ConnectorOffset) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := make(map[string]map[string]ConnectorOffset, len(s.data))
	for c, m := range s.data {
		next[c] = m
	}
	cur := make(map[string]ConnectorOffset, len(s.data[connector]))
	for k, v := range s.data[connector] {
		cur[k] = v
	}
	next[connector] = cur
	apply(next, connector, offsets)
	if err := s.save(next); err != nil {
		return err
	}
	s.data = next
	return nil
}

func (s *FileOffsetStore) save(data map[string]map[string]ConnectorOffset) error {
	names := make([]string, 0, len(data))
	for c := range data {
		names = append(names, c)
	}
	slices.Sort(names)
	f := fileOffsets{Offsets: []fileOffset{}}
	for _, c := range names {
		for _, o := range sortedOffsets(data[c]) {
			k, err := json.Marshal([]any{c, o.Partition})
			if err != nil {
				return fmt.Errorf("connect: offsets: %w", err)
			}
			v, err := json.Marshal(o.Offset)
			if err != nil {
				return fmt.Errorf("connect: offsets: %w", err)
			}
			f.Offsets = append(f.Offsets, fileOffset{Key: k, Value: v})
		}
	}
	// One entry per line, keys and values compact as in the offsets topic.
	var b bytes.Buffer
	b.WriteString("{\"offsets\":[")
	for i, e := range f.Offsets {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n")
		line, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("connect: offsets: %w", err)
		}
		b.Write(line)
	}
	b.WriteString("\n]}\n")
	return writeFileAtomic(s.path, b.Bytes())
}

// writeFileAtomic replaces path with data: temporary file, fsync, rename,
// fsync of the directory.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("connect: offsets: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("connect: offsets: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("connect: offsets: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("connect: offsets: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("connect: offsets: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// offsetReader serves a source task's OffsetReader from the offsets
// stored when the task started.
type offsetReader struct {
	offsets map[string]map[string]any
}

func newOffsetReader(ctx context.Context, store OffsetStore, connector string) (*offsetReader, error) {
	offs, err := store.Offsets(ctx, connector)
	if err != nil {
		return nil, err
	}
	r := &offsetReader{offsets: make(map[string]map[string]any, len(offs))}
	for _, o := range offs {
		r.offsets[PartitionKey(o.Partition)] = o.Offset
	}
	return r, nil
}

// Offset implements connector.OffsetReader.
func (r *offsetReader) Offset(partition map[string]any) (map[string]any, error) {
	return r.offsets[PartitionKey(partition)], nil
}

// String names the store in logs.
func (s *FileOffsetStore) String() string { return "file " + strings.TrimSpace(s.path) }
