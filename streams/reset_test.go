package streams_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/runnel/runnel/broker/brokertest"
	"github.com/runnel/runnel/streams"
)

func TestResetStartsTheApplicationOver(t *testing.T) {
	srv := brokertest.Start(t)
	cl, adm := newAdmin(t, srv.Addr)
	createTopic(t, adm, "words", 2)
	createTopic(t, adm, "counts-out", 2)
	produceWords(t, cl, 0, 100, 5)
	cfg := streams.Config{ApplicationID: "rs", BootstrapServers: []string{srv.Addr}, StateDir: t.TempDir(), CommitInterval: 100 * time.Millisecond}
	topo := countTopology(t)
	app, done := startApp(t, topo, cfg)
	readCounts(t, srv.Addr, map[string]int64{"w0": 20, "w4": 20})

	reset := streams.ResetConfig{BootstrapServers: []string{srv.Addr}, ApplicationID: "rs", InputTopics: []string{"words"}}
	if _, err := streams.Reset(t.Context(), reset); !errors.Is(err, streams.ErrGroupNotEmpty) {
		t.Fatalf("reset of a running application: %v, want ErrGroupNotEmpty", err)
	}
	app.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	dry := reset
	dry.DryRun = true
	res, err := streams.Reset(t.Context(), dry)
	if err != nil {
		t.Fatal(err)
	}
	wantInternal := []string{"rs-by-word-repartition", "rs-counts-changelog"}
	if !slices.Equal(res.DeletedTopics, wantInternal) {
		t.Fatalf("dry run would delete %v, want %v", res.DeletedTopics, wantInternal)
	}
	if topics, _ := adm.ListTopics(t.Context()); !topics.Has("rs-counts-changelog") {
		t.Fatal("dry run deleted topics")
	}

	if _, err := streams.Reset(t.Context(), reset); err != nil {
		t.Fatal(err)
	}
	offsets, err := adm.FetchOffsets(t.Context(), "rs")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []int32{0, 1} {
		o, ok := offsets.Lookup("words", p)
		if !ok || o.At != 0 {
			t.Fatalf("words-%d committed offset %+v, want 0", p, o)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for {
		topics, err := adm.ListTopics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !topics.Has("rs-counts-changelog") && !topics.Has("rs-by-word-repartition") {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("internal topics still listed: %v", topics.Names())
		case <-time.After(50 * time.Millisecond):
		}
	}
	if _, err := streams.Reset(t.Context(), streams.ResetConfig{BootstrapServers: []string{srv.Addr}, ApplicationID: "rs", InputTopics: []string{"nope"}}); err == nil {
		t.Fatal("reset of a missing input topic succeeded")
	}
}
