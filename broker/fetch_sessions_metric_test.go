package broker_test

import (
	"context"
	"testing"
	"time"

	"github.com/runnel/runnel/broker/brokertest"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestFetchSessionsMetric checks that a consumer's incremental fetch
// session shows in runnel_fetch_sessions.
func TestFetchSessionsMetric(t *testing.T) {
	srv := brokertest.Start(t)
	sessions := func() float64 {
		t.Helper()
		mfs, err := srv.Metrics.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "runnel_fetch_sessions" {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatal("runnel_fetch_sessions not exported")
		return 0
	}
	if n := sessions(); n != 0 {
		t.Fatalf("runnel_fetch_sessions = %v before any consumer", n)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(srv.Addr), kgo.ConsumeTopics("metered-sessions"),
		kgo.FetchMaxWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(t.Context(), 3, 1, nil, "metered-sessions"); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(t.Context(), &kgo.Record{Topic: "metered-sessions", Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for got := 0; got < 1 && ctx.Err() == nil; {
		got += cl.PollFetches(ctx).NumRecords()
	}
	// The consumer keeps fetching within its session.
	for sessions() < 1 {
		if ctx.Err() != nil {
			t.Fatal("no fetch session opened by a consuming client")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
