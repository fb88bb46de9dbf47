package metadata

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
)

func TestImageApplyAndPersist(t *testing.T) {
	dir := t.TempDir()
	id := uuid.New()
	img, err := Empty("cid").Apply(
		RegisterBroker(Broker{NodeID: 1, Endpoints: []Endpoint{{Name: "PLAINTEXT", Host: "127.0.0.1", Port: 9092, Protocol: "PLAINTEXT"}}}),
		NewTopic("orders", id),
		SetPartition(id, Partition{Index: 0, Replicas: []int32{1}, ISR: []int32{1}, Leader: 1}),
		SetPartition(id, Partition{Index: 1, Replicas: []int32{1}, ISR: []int32{1}, Leader: 1}),
		SetConfig(ResourceTopic, "orders", "retention.ms", ptr("1000")),
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(img.Topic("orders").Partitions); got != 2 {
		t.Fatalf("partitions = %d, want 2", got)
	}
	// Older images are not changed by later records.
	img2, err := img.Apply(SetConfig(ResourceTopic, "orders", "retention.ms", nil))
	if err != nil {
		t.Fatal(err)
	}
	if img.Topic("orders").Configs["retention.ms"] != "1000" {
		t.Fatal("apply mutated the previous image")
	}
	if _, ok := img2.Topic("orders").Configs["retention.ms"]; ok {
		t.Fatal("config not deleted")
	}

	s := NewStore(dir)
	if got, err := s.Load(); got != nil || err != nil {
		t.Fatalf("Load on empty dir = %v, %v", got, err)
	}
	if err := s.Save(img); err != nil {
		t.Fatal(err)
	}
	back, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if back.Offset != img.Offset || back.ClusterID != "cid" || back.TopicsByID[id].Name != "orders" ||
		back.Topic("orders").Configs["retention.ms"] != "1000" || back.Brokers[1].Endpoints[0].Port != 9092 {
		t.Fatalf("round trip lost data: %+v", back)
	}
}

func TestApplyErrorsLeaveImage(t *testing.T) {
	id := uuid.New()
	img, _ := Empty("c").Apply(NewTopic("a", id))
	for _, rec := range []Record{
		NewTopic("a", uuid.New()),
		SetPartition(uuid.New(), Partition{}),
		SetPartition(id, Partition{Index: 3}),
		RemoveTopic(uuid.New()),
		SetConfig(ResourceTopic, "missing", "k", ptr("v")),
		{Type: "bogus"},
	} {
		if _, err := img.Apply(rec); err == nil {
			t.Errorf("%s: no error", rec.Type)
		}
	}
	if len(img.Topic("a").Partitions) != 0 {
		t.Fatal("failed apply changed the image")
	}
}

func TestFormatDirs(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	cid, err := FormatDirs([]string{a}, 1)
	if err != nil || len(cid) != 22 {
		t.Fatalf("cluster id %q, %v", cid, err)
	}
	// A new dir joins the existing cluster.
	cid2, err := FormatDirs([]string{a, b}, 1)
	if err != nil || cid2 != cid {
		t.Fatalf("second format: %q, %v", cid2, err)
	}
	if _, err := FormatDirs([]string{a}, 2); !errors.Is(err, ErrDirMismatch) {
		t.Fatalf("node mismatch: %v", err)
	}
	os.WriteFile(filepath.Join(b, metaFile), []byte("cluster.id=other\nnode.id=1\n"), 0o644)
	if _, err := FormatDirs([]string{a, b}, 1); !errors.Is(err, ErrDirMismatch) {
		t.Fatalf("cluster mismatch: %v", err)
	}
}

func ptr(s string) *string { return &s }
