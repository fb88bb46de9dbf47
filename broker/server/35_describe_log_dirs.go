package server

import (
	"cmp"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/runnel/runnel/broker/replica"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeLogDirs v0–v4 (KIP-113): every log directory of this node — the
// configured log.dirs and the directories holding the partitions' logs —
// with the partitions it holds, each with its size on disk. Topics null
// asks for every partition; otherwise only the listed partitions that
// this node hosts are reported, and unknown ones are left out, as Kafka
// does. OffsetLag is the log end offset's lag behind the high watermark,
// which is 0 for the replicas Runnel hosts (Kafka reports lag only for
// future replicas of AlterReplicaLogDirs, which Runnel has none of).
// v3 adds the top-level ErrorCode; v4 adds each volume's TotalBytes and
// UsableBytes (statfs; -1 when it cannot be read). A directory that
// cannot be read answers KAFKA_STORAGE_ERROR, as Kafka reports an offline
// directory.

func (s *Server) handleDescribeLogDirs(req *kmsg.DescribeLogDirsRequest) *kmsg.DescribeLogDirsResponse {
	resp := req.ResponseKind().(*kmsg.DescribeLogDirsResponse)

	var want map[replica.TopicPartition]bool
	if req.Topics != nil {
		want = map[replica.TopicPartition]bool{}
		for _, t := range req.Topics {
			for _, p := range t.Partitions {
				want[replica.TopicPartition{Topic: t.Topic, Partition: p}] = true
			}
		}
	}

	type dirInfo struct {
		topics map[string][]kmsg.DescribeLogDirsResponseDirTopicPartition
	}
	dirs := map[string]*dirInfo{}
	dirOf := func(path string) *dirInfo {
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		path = filepath.Clean(path)
		d, ok := dirs[path]
		if !ok {
			d = &dirInfo{topics: map[string][]kmsg.DescribeLogDirsResponseDirTopicPartition{}}
			dirs[path] = d
		}
		return d
	}
	for _, d := range s.cfg.Broker.LogDirs {
		dirOf(d)
	}
	for _, p := range s.cfg.Replicas.Partitions() {
		if want != nil && !want[replica.TopicPartition{Topic: p.Topic, Partition: p.Index}] {
			continue
		}
		l := p.Log()
		rp := kmsg.NewDescribeLogDirsResponseDirTopicPartition()
		rp.Partition = p.Index
		rp.Size = l.Size()
		rp.OffsetLag = max(p.HighWatermark()-l.LogEndOffset(), 0)
		d := dirOf(filepath.Dir(l.Dir()))
		d.topics[p.Topic] = append(d.topics[p.Topic], rp)
	}

	for _, path := range slices.Sorted(maps.Keys(dirs)) {
		d := dirs[path]
		out := kmsg.NewDescribeLogDirsResponseDir()
		out.Dir = path
		if _, err := os.Stat(path); err != nil {
			out.ErrorCode = errorCode(fmt.Errorf("server: log dir %s: %w (%w)", path, kerr.KafkaStorageError, err))
			resp.Dirs = append(resp.Dirs, out)
			continue
		}
		var st syscall.Statfs_t
		if err := syscall.Statfs(path, &st); err == nil {
			out.TotalBytes = int64(st.Blocks) * int64(st.Bsize)
			out.UsableBytes = int64(st.Bavail) * int64(st.Bsize)
		}
		for _, topic := range slices.Sorted(maps.Keys(d.topics)) {
			t := kmsg.NewDescribeLogDirsResponseDirTopic()
			t.Topic = topic
			t.Partitions = d.topics[topic]
			slices.SortFunc(t.Partitions, func(a, b kmsg.DescribeLogDirsResponseDirTopicPartition) int {
				return cmp.Compare(a.Partition, b.Partition)
			})
			out.Topics = append(out.Topics, t)
		}
		resp.Dirs = append(resp.Dirs, out)
	}
	return resp
}
