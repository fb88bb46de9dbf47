package streams

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/runnel/runnel/streams"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestResetCommand runs `runnel streams reset` against a server process:
// refused while an instance runs, then the input offsets go back to the
// start and the internal topics are deleted.
func TestResetCommand(t *testing.T) {
	srv := startServer(t)
	createTopics(t, srv.Addr, 2, "events", "window-counts")
	produceEvents(t, srv.Addr, 1000, 10)
	topo, err := windowedCountTopology()
	if err != nil {
		t.Fatal(err)
	}
	app, err := streams.NewApp(topo, streams.Config{ApplicationID: "rst", BootstrapServers: []string{srv.Addr}, StateDir: t.TempDir(),
		CommitInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Run(context.Background()) }()
	adm := kadm.NewClient(newClient(t, srv.Addr, kgo.MetadataMinAge(10*time.Millisecond)))
	deadline := time.Now().Add(60 * time.Second)
	for {
		offs, err := adm.FetchOffsets(t.Context(), "rst")
		if err == nil {
			var sum int64
			offs.Each(func(o kadm.OffsetResponse) { sum += o.At })
			if sum == 1000 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the application did not commit its input")
		}
		time.Sleep(50 * time.Millisecond)
	}

	reset := func() (string, error) {
		out, err := exec.Command(runnelBin, "streams", "reset", "--bootstrap-server", srv.Addr,
			"--application-id", "rst", "--input-topics", "events").CombinedOutput()
		return string(out), err
	}
	if out, err := reset(); err == nil || !strings.Contains(out, "not empty") {
		t.Fatalf("reset of a running application: %v\n%s", err, out)
	}
	app.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	out, err := reset()
	if err != nil {
		t.Fatalf("reset: %v\n%s", err, out)
	}
	for _, want := range []string{
		"Topic: events Partition: 0 Offset: 0",
		"Topic: events Partition: 1 Offset: 0",
		"Deleting inferred internal topics [rst-window-counts-store-changelog]",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("reset output lacks %q:\n%s", want, out)
		}
	}
	offs, err := adm.FetchOffsets(t.Context(), "rst")
	if err != nil {
		t.Fatal(err)
	}
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Topic == "events" && o.At != 0 {
			t.Errorf("events-%d committed at %d after the reset", o.Partition, o.At)
		}
	})
	for {
		topics, err := adm.ListTopics(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !topics.Has("rst-window-counts-store-changelog") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the changelog topic is still there")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
