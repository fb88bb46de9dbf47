package rest

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/runnel/runnel/connect"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// restCase is one request and the golden file holding its answer.
type restCase struct {
	name   string // testdata/<name>.json
	method string
	path   string
	body   string
	setup  func(h *fakeHerder)
}

var restCases = []restCase{
	{name: "root", method: "GET", path: "/"},
	{name: "health", method: "GET", path: "/health"},
	{name: "health_starting", method: "GET", path: "/health", setup: func(h *fakeHerder) { h.health = connect.Errorf(503, "starting") }},
	{name: "list", method: "GET", path: "/connectors"},
	{name: "list_expand_status", method: "GET", path: "/connectors?expand=status"},
	{name: "list_expand_info", method: "GET", path: "/connectors?expand=info"},
	{name: "list_expand_both", method: "GET", path: "/connectors?expand=info&expand=status"},
	{name: "create", method: "POST", path: "/connectors", body: `{"name":"s2","config":{"connector.class":"org.apache.kafka.connect.file.FileStreamSourceConnector","tasks.max":1,"file":"/tmp/in.txt","topic":"t"}}`},
	{name: "create_initial_state", method: "POST", path: "/connectors", body: `{"name":"s3","config":{"connector.class":"FileStreamSource","topic":"t"},"initial_state":"stopped"}`},
	{name: "create_bad_initial_state", method: "POST", path: "/connectors", body: `{"name":"s3","config":{"connector.class":"FileStreamSource","topic":"t"},"initial_state":"sleeping"}`},
	{name: "create_exists", method: "POST", path: "/connectors", body: `{"name":"local-file-source","config":{"connector.class":"FileStreamSource","topic":"t"}}`},
	{name: "create_name_mismatch", method: "POST", path: "/connectors", body: `{"name":"a","config":{"name":"b","connector.class":"FileStreamSource"}}`},
	{name: "create_no_class", method: "POST", path: "/connectors", body: `{"name":"a","config":{"topic":"t"}}`},
	{name: "create_unknown_class", method: "POST", path: "/connectors", body: `{"name":"a","config":{"connector.class":"Nope"}}`},
	{name: "create_no_config", method: "POST", path: "/connectors", body: `{"name":"a"}`},
	{name: "create_null_value", method: "POST", path: "/connectors", body: `{"name":"a","config":{"connector.class":"FileStreamSource","topic":null}}`},
	{name: "create_bad_json", method: "POST", path: "/connectors", body: `{"name":"a","config":{"topic":"t",}}`},
	{name: "create_empty_body", method: "POST", path: "/connectors", body: ``},
	{name: "create_config_not_object", method: "POST", path: "/connectors", body: `{"name":"a","config":["x"]}`},
	{name: "create_value_object", method: "POST", path: "/connectors", body: `{"name":"a","config":{"topic":{"x":1}}}`},
	{name: "create_trailing_data", method: "POST", path: "/connectors", body: `{"name":"a","config":{}} {}`},
	{name: "get", method: "GET", path: "/connectors/local-file-source"},
	{name: "get_unknown", method: "GET", path: "/connectors/nope"},
	{name: "get_config", method: "GET", path: "/connectors/local-file-source/config"},
	{name: "get_config_unknown", method: "GET", path: "/connectors/nope/config"},
	{name: "put_config_update", method: "PUT", path: "/connectors/local-file-source/config", body: `{"connector.class":"FileStreamSource","file":"other.txt","topic":"connect-test"}`},
	{name: "put_config_create", method: "PUT", path: "/connectors/new-sink/config", body: `{"connector.class":"FileStreamSink","topics":"connect-test"}`},
	{name: "put_config_name_mismatch", method: "PUT", path: "/connectors/a/config", body: `{"name":"b","connector.class":"FileStreamSink"}`},
	{name: "put_config_not_object", method: "PUT", path: "/connectors/a/config", body: `"x"`},
	{name: "patch_config", method: "PATCH", path: "/connectors/local-file-source/config", body: `{"file":"patched.txt","tasks.max":null}`},
	{name: "patch_config_unknown", method: "PATCH", path: "/connectors/nope/config", body: `{"file":"x"}`},
	{name: "status", method: "GET", path: "/connectors/local-file-source/status"},
	{name: "status_failed_task", method: "GET", path: "/connectors/local-file-sink/status"},
	{name: "status_unknown", method: "GET", path: "/connectors/nope/status"},
	{name: "restart", method: "POST", path: "/connectors/local-file-source/restart"},
	{name: "restart_unknown", method: "POST", path: "/connectors/nope/restart"},
	{name: "restart_include_tasks", method: "POST", path: "/connectors/local-file-source/restart?includeTasks=true"},
	{name: "restart_only_failed", method: "POST", path: "/connectors/local-file-sink/restart?includeTasks=true&onlyFailed=true"},
	{name: "restart_include_tasks_unknown", method: "POST", path: "/connectors/nope/restart?includeTasks=true"},
	{name: "pause", method: "PUT", path: "/connectors/local-file-source/pause"},
	{name: "pause_unknown", method: "PUT", path: "/connectors/nope/pause"},
	{name: "resume", method: "PUT", path: "/connectors/local-file-source/resume"},
	{name: "stop", method: "PUT", path: "/connectors/local-file-source/stop"},
	{name: "stop_unknown", method: "PUT", path: "/connectors/nope/stop"},
	{name: "delete", method: "DELETE", path: "/connectors/local-file-source"},
	{name: "delete_unknown", method: "DELETE", path: "/connectors/nope"},
	{name: "tasks", method: "GET", path: "/connectors/local-file-source/tasks"},
	{name: "tasks_unknown", method: "GET", path: "/connectors/nope/tasks"},
	{name: "tasks_config", method: "GET", path: "/connectors/local-file-source/tasks-config"},
	{name: "tasks_config_unknown", method: "GET", path: "/connectors/nope/tasks-config"},
	{name: "task_status", method: "GET", path: "/connectors/local-file-sink/tasks/0/status"},
	{name: "task_status_unknown", method: "GET", path: "/connectors/local-file-sink/tasks/7/status"},
	{name: "task_status_not_int", method: "GET", path: "/connectors/local-file-sink/tasks/x/status"},
	{name: "task_restart", method: "POST", path: "/connectors/local-file-sink/tasks/0/restart"},
	{name: "task_restart_unknown", method: "POST", path: "/connectors/local-file-sink/tasks/3/restart"},
	{name: "topics", method: "GET", path: "/connectors/local-file-source/topics"},
	{name: "topics_reset", method: "PUT", path: "/connectors/local-file-source/topics/reset"},
	{name: "offsets", method: "GET", path: "/connectors/local-file-source/offsets"},
	{name: "offsets_unknown", method: "GET", path: "/connectors/nope/offsets"},
	{name: "offsets_alter_running", method: "PATCH", path: "/connectors/local-file-source/offsets", body: `{"offsets":[{"partition":{"filename":"test.txt"},"offset":{"position":7}}]}`},
	{name: "offsets_alter", method: "PATCH", path: "/connectors/local-file-source/offsets", body: `{"offsets":[{"partition":{"filename":"test.txt"},"offset":{"position":7}}]}`, setup: stopSource},
	{name: "offsets_alter_empty", method: "PATCH", path: "/connectors/local-file-source/offsets", body: `{"offsets":[]}`, setup: stopSource},
	{name: "offsets_alter_bad_partition", method: "PATCH", path: "/connectors/local-file-source/offsets", body: `{"offsets":[{"partition":5,"offset":{}}]}`, setup: stopSource},
	{name: "offsets_reset", method: "DELETE", path: "/connectors/local-file-source/offsets", setup: stopSource},
	{name: "offsets_reset_running", method: "DELETE", path: "/connectors/local-file-source/offsets"},
	{name: "plugins", method: "GET", path: "/connector-plugins"},
	{name: "plugins_all", method: "GET", path: "/connector-plugins?connectorsOnly=false"},
	{name: "plugin_config", method: "GET", path: "/connector-plugins/FileStreamSource/config"},
	{name: "plugin_config_unknown", method: "GET", path: "/connector-plugins/Nope/config"},
	{name: "validate", method: "PUT", path: "/connector-plugins/FileStreamSourceConnector/config/validate", body: `{"connector.class":"org.apache.kafka.connect.file.FileStreamSourceConnector","topic":"t"}`},
	{name: "validate_errors", method: "PUT", path: "/connector-plugins/FileStreamSource/config/validate", body: `{"connector.class":"FileStreamSource"}`},
	{name: "validate_type_mismatch", method: "PUT", path: "/connector-plugins/FileStreamSink/config/validate", body: `{"connector.class":"FileStreamSource"}`},
	{name: "loggers", method: "GET", path: "/admin/loggers"},
	{name: "logger", method: "GET", path: "/admin/loggers/org.apache.kafka.connect"},
	{name: "logger_set", method: "PUT", path: "/admin/loggers/org.apache.kafka.connect", body: `{"level":"DEBUG"}`},
	{name: "logger_set_cluster", method: "PUT", path: "/admin/loggers/org.apache.kafka.connect?scope=cluster", body: `{"level":"DEBUG"}`},
	{name: "logger_set_bad_level", method: "PUT", path: "/admin/loggers/root", body: `{"level":"LOUD"}`},
	{name: "logger_set_no_level", method: "PUT", path: "/admin/loggers/root", body: `{}`},
	{name: "unknown_path", method: "GET", path: "/nope"},
	{name: "method_not_allowed", method: "DELETE", path: "/connectors"},
}

func stopSource(h *fakeHerder) { h.conns["local-file-source"].target = connect.TargetStopped }

// render prints a response as the golden file holds it; the body is kept
// byte for byte so that field order is checked too.
func render(c restCase, resp *http.Response) []byte {
	body, _ := io.ReadAll(resp.Body)
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\n  \"request\": %s,\n  \"status\": %d,\n", strconv.Quote(c.method+" "+c.path), resp.StatusCode)
	if loc := resp.Header.Get("Location"); loc != "" {
		fmt.Fprintf(&b, "  \"location\": %s,\n", strconv.Quote(loc))
	}
	if len(body) == 0 {
		body = []byte("null")
	} else if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		body = []byte(strconv.Quote("unexpected Content-Type " + ct + ": " + string(body)))
	}
	fmt.Fprintf(&b, "  \"body\": %s\n}\n", body)
	return b.Bytes()
}

func TestGolden(t *testing.T) {
	for _, c := range restCases {
		t.Run(c.name, func(t *testing.T) {
			h := newFakeHerder()
			if c.setup != nil {
				c.setup(h)
			}
			srv := httptest.NewServer(New(Config{Herder: h, TopicTrackingEnable: true, TopicTrackingAllowReset: true, Commit: "0123456789abcdef"}).Handler())
			defer srv.Close()
			req, err := http.NewRequestWithContext(t.Context(), c.method, srv.URL+c.path, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if c.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got := render(c, resp)
			path := filepath.Join("testdata", c.name+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s %s:\ngot:\n%s\nwant:\n%s", c.method, c.path, got, want)
			}
		})
	}
}
