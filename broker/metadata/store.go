package metadata

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// SnapshotDir is the directory under the first log dir that holds the
// metadata snapshot. It has a partition-style name, as Kafka's metadata log
// does, so tools that list log dirs recognise it; the log manager skips it.
const SnapshotDir = "__cluster_metadata-0"

const snapshotFile = "snapshot.json"

// snapshot is the on-disk form: the records that rebuild the image from
// empty. A replicated controller can install the same records as its state
// machine snapshot.
type snapshot struct {
	Version   int      `json:"version"`
	ClusterID string   `json:"cluster_id"`
	Offset    int64    `json:"offset"`
	Records   []Record `json:"records"`
}

// Records returns records that rebuild img from an empty image, in a
// deterministic order.
func (img *Image) Records() []Record {
	var recs []Record
	ids := slices.Sorted(maps.Keys(img.Brokers))
	for _, id := range ids {
		recs = append(recs, RegisterBroker(img.Brokers[id]))
	}
	for _, name := range img.TopicNames() {
		t := img.Topics[name]
		recs = append(recs, NewTopic(t.Name, t.ID))
		for _, p := range t.Partitions {
			recs = append(recs, SetPartition(t.ID, p))
		}
		for _, k := range slices.Sorted(maps.Keys(t.Configs)) {
			v := t.Configs[k]
			recs = append(recs, SetConfig(ResourceTopic, t.Name, k, &v))
		}
	}
	for _, res := range slices.Sorted(maps.Keys(img.BrokerConfigs)) {
		for _, k := range slices.Sorted(maps.Keys(img.BrokerConfigs[res])) {
			v := img.BrokerConfigs[res][k]
			recs = append(recs, SetConfig(ResourceBroker, res, k, &v))
		}
	}
	if img.NextProducerID > 0 {
		recs = append(recs, AllocateProducerIDs(-1, img.NextProducerID))
	}
	return recs
}

// Store persists the image under a log dir.
type Store struct {
	dir string
}

// NewStore returns a store writing under logDir/SnapshotDir.
func NewStore(logDir string) *Store {
	return &Store{dir: filepath.Join(logDir, SnapshotDir)}
}

// Load reads the persisted image. It returns (nil, nil) when there is none.
func (s *Store) Load() (*Image, error) {
	data, err := os.ReadFile(filepath.Join(s.dir, snapshotFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("metadata: read snapshot: %w", err)
	}
	var snap snapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return nil, fmt.Errorf("metadata: decode %s: %w", filepath.Join(s.dir, snapshotFile), err)
	}
	if snap.Version != 1 {
		return nil, fmt.Errorf("metadata: snapshot version %d is not supported", snap.Version)
	}
	img, err := Empty(snap.ClusterID).Apply(snap.Records...)
	if err != nil {
		return nil, fmt.Errorf("metadata: replay snapshot: %w", err)
	}
	img.Offset = snap.Offset
	return img, nil
}

// Save writes img atomically: a temp file, fsync, rename, fsync of the dir.
func (s *Store) Save(img *Image) error {
	data, err := json.Marshal(snapshot{Version: 1, ClusterID: img.ClusterID, Offset: img.Offset, Records: img.Records()})
	if err != nil {
		return fmt.Errorf("metadata: encode snapshot: %w", err)
	}
	return writeAtomic(s.dir, snapshotFile, data)
}

func writeAtomic(dir, name string, data []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	tmp := filepath.Join(dir, name+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("metadata: write %s: %w", tmp, werr)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("metadata: sync %s: %w", dir, err)
	}
	return nil
}

// NewClusterID returns a random cluster ID in Kafka's format: the 16 bytes
// of a UUID in URL-safe base64 without padding.
func NewClusterID() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// DirMeta is a log dir's meta.properties: which cluster and node it
// belongs to.
type DirMeta struct {
	ClusterID   string
	NodeID      int32
	DirectoryID uuid.UUID
}

const metaFile = "meta.properties"

// ErrDirMismatch means a log dir belongs to another cluster or node.
var ErrDirMismatch = errors.New("metadata: log dir belongs to another cluster or node")

// FormatDirs ensures every dir has a meta.properties for one cluster and
// nodeID, creating missing ones (Runnel formats new directories itself, as
// a fresh single-node install should just start). It returns the cluster ID:
// the one already recorded, or a new one. Dirs that disagree are an error
// naming the dir.
func FormatDirs(dirs []string, nodeID int32) (string, error) {
	clusterID := ""
	var missing []string
	for _, d := range dirs {
		m, err := readDirMeta(d)
		if errors.Is(err, os.ErrNotExist) {
			missing = append(missing, d)
			continue
		}
		if err != nil {
			return "", err
		}
		if m.NodeID != nodeID {
			return "", fmt.Errorf("%w: %s has node.id=%d, this node is node.id=%d", ErrDirMismatch, d, m.NodeID, nodeID)
		}
		if clusterID != "" && m.ClusterID != clusterID {
			return "", fmt.Errorf("%w: %s has cluster.id=%s, another log dir has %s", ErrDirMismatch, d, m.ClusterID, clusterID)
		}
		clusterID = m.ClusterID
	}
	if clusterID == "" {
		clusterID = NewClusterID()
	}
	for _, d := range missing {
		if err := writeDirMeta(d, DirMeta{ClusterID: clusterID, NodeID: nodeID, DirectoryID: uuid.New()}); err != nil {
			return "", err
		}
	}
	return clusterID, nil
}

func readDirMeta(dir string) (DirMeta, error) {
	path := filepath.Join(dir, metaFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return DirMeta{}, err
	}
	var m DirMeta
	var sawNode bool
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return DirMeta{}, fmt.Errorf("metadata: %s line %d: expected key=value", path, i+1)
		}
		switch k {
		case "cluster.id":
			m.ClusterID = v
		case "node.id":
			n, err := strconv.ParseInt(v, 10, 32)
			if err != nil {
				return DirMeta{}, fmt.Errorf("metadata: %s: node.id %q is not an integer", path, v)
			}
			m.NodeID, sawNode = int32(n), true
		case "directory.id":
			m.DirectoryID, _ = uuid.Parse(v)
		}
	}
	if m.ClusterID == "" || !sawNode {
		return DirMeta{}, fmt.Errorf("metadata: %s lacks cluster.id or node.id", path)
	}
	return m, nil
}

func writeDirMeta(dir string, m DirMeta) error {
	body := fmt.Sprintf("#\n#%s\ncluster.id=%s\ndirectory.id=%s\nnode.id=%d\nversion=1\n",
		time.Now().UTC().Format(time.UnixDate), m.ClusterID, m.DirectoryID, m.NodeID)
	return writeAtomic(dir, metaFile, []byte(body))
}
