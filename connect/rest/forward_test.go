package rest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/runnel/runnel/connect"
)

// TestForwardToLeader: a write to a follower is forwarded to the leader
// with forward=true, and the leader's answer (status, Location, body)
// reaches the client unchanged.
func TestForwardToLeader(t *testing.T) {
	leaderHerder := newFakeHerder()
	var mu sync.Mutex
	var seen []string
	leaderAPI := New(Config{Herder: leaderHerder}).Handler()
	leader := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.RequestURI())
		mu.Unlock()
		leaderAPI.ServeHTTP(w, r)
	}))
	defer leader.Close()

	follower := newFakeHerder()
	follower.notLeader = &connect.NotLeaderError{URL: leader.URL + "/"}
	fsrv := httptest.NewServer(New(Config{Herder: follower}).Handler())
	defer fsrv.Close()

	tests := []struct {
		method, path, body string
		status             int
		location           string
		bodyHas            string
		leaderSaw          string
	}{
		{"POST", "/connectors", `{"name":"fwd","config":{"connector.class":"FileStreamSink","topics":"t"}}`,
			201, "/connectors/fwd", `"name":"fwd"`, "POST /connectors?forward=true"},
		{"DELETE", "/connectors/fwd", "", 204, "", "", "DELETE /connectors/fwd?forward=true"},
		{"DELETE", "/connectors/nope", "", 404, "", `"Connector nope not found"`, "DELETE /connectors/nope?forward=true"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequestWithContext(t.Context(), tt.method, fsrv.URL+tt.path, strings.NewReader(tt.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || resp.Header.Get("Location") != tt.location || !strings.Contains(string(body), tt.bodyHas) {
			t.Errorf("%s %s = %d %q %s, want %d %q containing %s", tt.method, tt.path, resp.StatusCode, resp.Header.Get("Location"), body, tt.status, tt.location, tt.bodyHas)
		}
		mu.Lock()
		last := ""
		if len(seen) > 0 {
			last = seen[len(seen)-1]
		}
		mu.Unlock()
		if last != tt.leaderSaw {
			t.Errorf("%s %s: leader saw %q, want %q", tt.method, tt.path, last, tt.leaderSaw)
		}
	}
	if _, ok := leaderHerder.conns["fwd"]; ok {
		t.Errorf("connector fwd still on the leader after the forwarded delete")
	}
}

// TestForwardLimits: a request already forwarded once (forward=false) or a
// follower that knows no leader answers 409, as Kafka does.
func TestForwardLimits(t *testing.T) {
	tests := []struct {
		name, url, query, msg string
	}{
		{"second hop", "http://127.0.0.1:1/", "?forward=false", "Cannot complete request because of a conflicting operation (e.g. worker rebalance)"},
		{"no leader", "", "", "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newFakeHerder()
			h.notLeader = &connect.NotLeaderError{URL: tt.url}
			srv := httptest.NewServer(New(Config{Herder: h}).Handler())
			defer srv.Close()
			req, _ := http.NewRequestWithContext(t.Context(), "DELETE", srv.URL+"/connectors/local-file-source"+tt.query, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			want := `{"error_code":409,"message":"` + tt.msg + `"}`
			if resp.StatusCode != 409 || string(body) != want {
				t.Errorf("got %d %s, want 409 %s", resp.StatusCode, body, want)
			}
		})
	}
}
