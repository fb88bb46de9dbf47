package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runnel/runnel/broker/brokertest"
	"github.com/runnel/runnel/streams"
	"github.com/twmb/franz-go/pkg/kgo"
)

// base is a minute boundary; every event time is an offset from it.
var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) int64 { return base.Add(d).UnixMilli() }

func view(user, page string, d time.Duration) *kgo.Record {
	return jsonRecord(topicPageViews, user, PageView{User: user, Page: page, TS: at(d)}, at(d))
}

func click(user, page, element string, d time.Duration) *kgo.Record {
	return jsonRecord(topicClicks, user, Click{User: user, Page: page, Element: element, TS: at(d)}, at(d))
}

// TestPipeline runs the activity application against an in-process broker
// and checks each output topic: per-page minute counts including a view
// that arrives out of order within the grace period, user sessions split
// by 30 minutes of inactivity, and clicks joined with the users table.
func TestPipeline(t *testing.T) {
	srv := brokertest.Start(t)
	ctx := t.Context()
	var out bytes.Buffer
	if err := setup(ctx, srv.Addr, 3, &out); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(srv.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	topo, err := topology()
	if err != nil {
		t.Fatal(err)
	}
	app, err := streams.NewApp(topo, streams.Config{
		ApplicationID: "activity", BootstrapServers: []string{srv.Addr}, StateDir: t.TempDir(),
		CommitInterval: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Run(context.Background()) }()
	defer func() {
		app.Close()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	g := &generator{users: 3, pages: 2, rng: rand.New(rand.NewPCG(1, 2)), now: func() time.Time { return base.Add(-time.Hour) }}
	if err := cl.ProduceSync(ctx, g.userRecords()...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// The join needs the table loaded; wait until a query sees it.
	waitUntil(t, "the users table", func() bool {
		q, err := streams.QueryKeyValue[string, User](app, "users-store")
		if err != nil {
			return false
		}
		u, ok, err := q.Get("user-2")
		return err == nil && ok && u.Name == "User 2"
	})

	records := []*kgo.Record{
		view("user-0", "/a", 1*time.Second),
		view("user-1", "/a", 20*time.Second),
		view("user-0", "/b", 30*time.Second),
		view("user-1", "/a", 65*time.Second), // next minute
		view("user-0", "/a", 55*time.Second), // 10s out of order, within grace
		click("user-0", "/a", "buy", 2*time.Second),
		click("user-7", "/b", "like", 3*time.Second), // no such user
	}
	if err := cl.ProduceSync(ctx, records...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	minute := func(d time.Duration) string {
		return stamp(at(d)) + " " + stamp(at(d+time.Minute))
	}
	wantCounts := map[string]string{
		"/a " + minute(0):              "/a " + minute(0) + " 3",
		"/b " + minute(0):              "/b " + minute(0) + " 1",
		"/a " + minute(time.Minute):    "/a " + minute(time.Minute) + " 1",
		"/a " + minute(40*time.Minute): "/a " + minute(40*time.Minute) + " 1",
	}
	wantSessions := map[string]bool{
		"user-0 " + stamp(at(time.Second)) + " " + stamp(at(55*time.Second)) + " 3":    true,
		"user-1 " + stamp(at(20*time.Second)) + " " + stamp(at(65*time.Second)) + " 2": true,
		"user-0 " + stamp(at(40*time.Minute)) + " " + stamp(at(40*time.Minute)) + " 1": true,
	}
	wantClicks := map[string]EnrichedClick{
		"buy":  {Click: Click{User: "user-0", Page: "/a", Element: "buy", TS: at(2 * time.Second)}, Name: "User 0", Country: "DE"},
		"like": {Click: Click{User: "user-7", Page: "/b", Element: "like", TS: at(3 * time.Second)}},
	}

	consumer, err := kgo.NewClient(kgo.SeedBrokers(srv.Addr), kgo.ConsumeTopics(topicPageViewCounts, topicUserSessions, topicEnrichedClicks),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	counts := map[string]string{}
	sessions := map[string]bool{}
	clicks := map[string]EnrichedClick{}
	// The view 40 minutes later goes in once the first ones are counted:
	// it moves stream time on, and views still in flight from another
	// partition would then be late for their window (as in Kafka).
	later := false
	complete := func() bool {
		if !later {
			for _, k := range []string{"/a " + minute(0), "/a " + minute(time.Minute)} {
				if counts[k] != wantCounts[k] {
					return false
				}
			}
			if err := cl.ProduceSync(ctx, view("user-0", "/a", 40*time.Minute)).FirstErr(); err != nil {
				t.Fatal(err)
			}
			later = true
		}
		for k, v := range wantCounts {
			if counts[k] != v {
				return false
			}
		}
		for s := range wantSessions {
			if !sessions[s] {
				return false
			}
		}
		return len(clicks) == len(wantClicks)
	}
	deadline, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for !complete() {
		fs := consumer.PollFetches(deadline)
		if deadline.Err() != nil {
			t.Fatalf("timed out\ncounts %v\nsessions %v\nclicks %v", counts, sessions, clicks)
		}
		fs.EachRecord(func(r *kgo.Record) {
			v := string(r.Value)
			switch r.Topic {
			case topicPageViewCounts:
				f := strings.Fields(v)
				counts[strings.Join(f[:3], " ")] = v
			case topicUserSessions:
				sessions[v] = true
			case topicEnrichedClicks:
				var e EnrichedClick
				if err := json.Unmarshal(r.Value, &e); err != nil {
					t.Fatalf("enriched click %q: %v", v, err)
				}
				clicks[e.Element] = e
			}
		})
	}
	if !maps.Equal(clicks, wantClicks) {
		t.Errorf("enriched clicks %+v, want %+v", clicks, wantClicks)
	}
	if extra := len(counts) - len(wantCounts); extra != 0 {
		t.Errorf("page view counts %v, want %v", counts, wantCounts)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCreateSinks checks the connector configs posted to the Connect REST
// API.
func TestCreateSinks(t *testing.T) {
	got := map[string]map[string]string{}
	rebalancing := true // the first POST meets a rebalance
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if name, ok := strings.CutPrefix(r.URL.Path, "/connectors/"); ok && r.Method == http.MethodGet {
			if _, exists := got[name]; !exists {
				http.Error(w, "not found", http.StatusNotFound)
			}
			return
		}
		if r.Method != http.MethodPost || r.URL.Path != "/connectors" {
			http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusNotFound)
			return
		}
		var body struct {
			Name   string            `json:"name"`
			Config map[string]string `json:"config"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if _, dup := got[body.Name]; dup || rebalancing {
			rebalancing = false
			http.Error(w, "exists or rebalancing", http.StatusConflict)
			return
		}
		got[body.Name] = body.Config
		w.WriteHeader(http.StatusCreated)
	}))
	defer ts.Close()
	dir := t.TempDir()
	var out bytes.Buffer
	for range 2 { // the second round meets 409s and succeeds
		if err := createSinks(t.Context(), ts.Client(), ts.URL, dir, &out); err != nil {
			t.Fatal(err)
		}
	}
	cfg := got["enriched-clicks-file-sink"]
	if cfg["connector.class"] != "FileStreamSink" || cfg["topics"] != topicEnrichedClicks || cfg["file"] != filepath.Join(dir, "enriched-clicks.txt") {
		t.Fatalf("config %v", cfg)
	}
	if len(got) != 3 || !strings.Contains(out.String(), "already exists") {
		t.Fatalf("connectors %v, output %q", got, out.String())
	}
}
