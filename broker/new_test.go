package broker_test

import (
	"net"
	"strings"
	"testing"

	"github.com/runnel/runnel/broker"
	"github.com/runnel/runnel/broker/config"
)

// TestNewReleasesOnFailure starts a node whose listener port is taken: New
// must fail naming the listener, and leave the data directory unlocked for
// the next node.
func TestNewReleasesOnFailure(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := t.TempDir()
	for _, tc := range []struct {
		listener string
		fails    bool
	}{
		{taken.Addr().String(), true},
		{"127.0.0.1:0", false},
	} {
		bc, err := config.ParseBroker(map[string]string{"listeners": "PLAINTEXT://" + tc.listener, "log.dirs": dir})
		if err != nil {
			t.Fatal(err)
		}
		b, err := broker.New(broker.Config{Broker: bc})
		if tc.fails {
			if err == nil || !strings.Contains(err.Error(), "PLAINTEXT") {
				t.Fatalf("New on a taken port: %v, want an error naming the listener", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("New after a failed start: %v", err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
