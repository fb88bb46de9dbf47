// Package rest serves Kafka Connect's REST API (as of Kafka 3.9) from a
// connect.Herder: the same paths, methods, status codes and JSON bodies,
// errors as {"error_code":N,"message":"…"}. Requests a follower worker
// cannot serve (connect.NotLeaderError) are forwarded to the leader with
// forward=false, as Kafka does.
//
// New returns an API whose Handler an embedding program mounts on its own
// http.Server (runnel server shares the listener with /metrics).
package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/runnel/runnel/connect"
)

// DefaultVersion is what GET / reports as "version": the Kafka Connect
// version whose REST API this package follows.
const DefaultVersion = "3.9.0"

// maxBody bounds a request body.
const maxBody = 8 << 20

// Config configures an API.
type Config struct {
	Herder connect.Herder
	// TopicTrackingEnable and TopicTrackingAllowReset gate the topics
	// endpoints (topic.tracking.enable, topic.tracking.allow.reset).
	TopicTrackingEnable     bool
	TopicTrackingAllowReset bool
	// Version and Commit are reported by GET / (DefaultVersion and "" if
	// empty).
	Version, Commit string
	// Client forwards requests to the leader (nil = a client with a 90 s
	// timeout, Kafka's request timeout).
	Client *http.Client
	// RequestTimeout bounds each herder call (90 s if zero, as Kafka).
	RequestTimeout time.Duration
	// Logger logs failed requests at debug level (nil = discard).
	Logger *slog.Logger
}

// API serves Kafka Connect's REST API.
type API struct {
	cfg Config
	mux *http.ServeMux
	log *slog.Logger
}

// New returns an API serving cfg.Herder.
func New(cfg Config) *API {
	if cfg.Version == "" {
		cfg.Version = DefaultVersion
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 90 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: cfg.RequestTimeout}
	}
	a := &API{cfg: cfg, mux: http.NewServeMux(), log: cfg.Logger}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.routes()
	return a
}

// Handler returns the API's http.Handler.
func (a *API) Handler() http.Handler { return http.HandlerFunc(a.serve) }

// handlerFunc serves one endpoint: it returns the status and the value to
// encode as JSON (nil = no body), or an error.
type handlerFunc func(r *http.Request, body []byte) (int, any, error)

func (a *API) routes() {
	// Every endpoint forwards when the herder answers NotLeaderError; the
	// standalone herder never does.
	h := func(pattern string, fn handlerFunc) { a.mux.Handle(pattern, a.endpoint(fn)) }

	h("GET /{$}", a.serverInfo)
	h("GET /health", a.health)
	h("GET /connectors", a.listConnectors)
	h("POST /connectors", a.createConnector)
	h("GET /connectors/{connector}", a.getConnector)
	h("DELETE /connectors/{connector}", a.deleteConnector)
	h("GET /connectors/{connector}/config", a.getConnectorConfig)
	h("PUT /connectors/{connector}/config", a.putConnectorConfig)
	h("PATCH /connectors/{connector}/config", a.patchConnectorConfig)
	h("GET /connectors/{connector}/status", a.connectorStatus)
	h("POST /connectors/{connector}/restart", a.restartConnector)
	h("PUT /connectors/{connector}/pause", a.pauseConnector)
	h("PUT /connectors/{connector}/resume", a.resumeConnector)
	h("PUT /connectors/{connector}/stop", a.stopConnector)
	h("GET /connectors/{connector}/tasks", a.taskConfigs)
	h("GET /connectors/{connector}/tasks-config", a.tasksConfig)
	h("GET /connectors/{connector}/tasks/{task}/status", a.taskStatus)
	h("POST /connectors/{connector}/tasks/{task}/restart", a.restartTask)
	h("GET /connectors/{connector}/topics", a.activeTopics)
	h("PUT /connectors/{connector}/topics/reset", a.resetActiveTopics)
	h("GET /connectors/{connector}/offsets", a.getOffsets)
	h("PATCH /connectors/{connector}/offsets", a.alterOffsets)
	h("DELETE /connectors/{connector}/offsets", a.resetOffsets)
	h("GET /connector-plugins", a.listPlugins)
	h("GET /connector-plugins/{plugin}/config", a.pluginConfig)
	h("PUT /connector-plugins/{plugin}/config/validate", a.validate)
	h("GET /admin/loggers", a.listLoggers)
	h("GET /admin/loggers/{logger}", a.getLogger)
	h("PUT /admin/loggers/{logger}", a.setLogger)
}

// serve dispatches, answering unknown paths 404 and known paths with
// another method 405 in Kafka's JSON error form.
func (a *API) serve(w http.ResponseWriter, r *http.Request) {
	if _, pattern := a.mux.Handler(r); pattern == "" {
		status := http.StatusNotFound
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			if m == r.Method {
				continue
			}
			r2 := r.Clone(r.Context())
			r2.Method = m
			if _, p := a.mux.Handler(r2); p != "" {
				status = http.StatusMethodNotAllowed
				break
			}
		}
		writeError(w, status, fmt.Sprintf("HTTP %d %s", status, http.StatusText(status)))
		return
	}
	a.mux.ServeHTTP(w, r)
}

// endpoint adapts fn: reads the body, bounds the call by the request
// timeout, forwards to the leader when the herder says so and writes the
// JSON answer.
func (a *API) endpoint(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			writeError(w, http.StatusBadRequest, "Cannot read request body: "+err.Error())
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), a.cfg.RequestTimeout)
		defer cancel()
		r = r.WithContext(ctx)
		status, v, err := fn(r, body)
		var nl *connect.NotLeaderError
		if err != nil && errors.As(err, &nl) {
			a.forward(w, r, body, nl)
			return
		}
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
				writeError(w, http.StatusInternalServerError, "Request timed out")
				return
			}
			code := connect.StatusCode(err)
			a.log.Debug("connect REST request failed", "method", r.Method, "path", r.URL.Path, "status", code, "err", err)
			writeError(w, code, err.Error())
			return
		}
		if c, ok := v.(created); ok {
			w.Header().Set("Location", c.location)
			v = c.body
		}
		writeJSON(w, status, v)
	})
}

// forward sends the request to the leader: with forward=false when this
// request was itself forwarded once (forward=true) and forward=true when it
// came from a user, so that a request finds the leader within two hops.
// A request that arrives with forward=false and still misses the leader
// means a rebalance moved it: 409.
func (a *API) forward(w http.ResponseWriter, r *http.Request, body []byte, nl *connect.NotLeaderError) {
	fwd := r.URL.Query().Get("forward")
	if fwd != "" && !strings.EqualFold(fwd, "true") {
		writeError(w, http.StatusConflict, "Cannot complete request because of a conflicting operation (e.g. worker rebalance)")
		return
	}
	if nl.URL == "" {
		writeError(w, http.StatusConflict, "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway.")
		return
	}
	target, err := url.Parse(strings.TrimSuffix(nl.URL, "/") + r.URL.EscapedPath())
	if err != nil {
		writeError(w, http.StatusInternalServerError, "Invalid leader URL "+nl.URL)
		return
	}
	q := r.URL.Query()
	q.Set("forward", strconv.FormatBool(fwd == ""))
	target.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(r.Context(), r.Method, target.String(), bytes.NewReader(body))
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	if v := r.Header.Get("Authorization"); v != "" {
		req.Header.Set("Authorization", v)
	}
	resp, err := a.cfg.Client.Do(req)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "IO Error trying to forward REST request: "+err.Error())
		return
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusInternalServerError, "IO Error trying to forward REST request: "+err.Error())
		return
	}
	for _, h := range []string{"Content-Type", "Location"} {
		if v := resp.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(out)
}

// errorMessage is Kafka's error body.
type errorMessage struct {
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorMessage{ErrorCode: status, Message: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	if v == nil {
		w.WriteHeader(status)
		return
	}
	data, err := marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		data, _ = marshal(errorMessage{ErrorCode: status, Message: err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(data)
}

// marshal encodes v as compact JSON without HTML escaping, as Jackson
// writes it.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
