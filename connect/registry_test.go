package connect

import (
	"errors"
	"slices"
	"testing"

	"github.com/runnel/runnel/connect/configdef"
	"github.com/runnel/runnel/connect/connector"
)

type nopConnector struct{ def *configdef.Def }

func (nopConnector) Version() string { return "1.2" }
func (c nopConnector) ConfigDef() *configdef.Def {
	if c.def == nil {
		return configdef.New()
	}
	return c.def
}
func (nopConnector) Start(connector.ConnectorContext, map[string]string) error { return nil }
func (nopConnector) TaskConfigs(int) ([]map[string]string, error)              { return nil, nil }
func (nopConnector) Stop() error                                               { return nil }

type nopSource struct{ nopConnector }

func (nopSource) NewTask() connector.SourceTask { return nil }

type nopSink struct{ nopConnector }

func (nopSink) NewTask() connector.SinkTask { return nil }

type nopTransform struct{ def *configdef.Def }

func (nopTransform) Configure(map[string]string) error { return nil }
func (t nopTransform) ConfigDef() *configdef.Def {
	if t.def == nil {
		return configdef.New()
	}
	return t.def
}
func (nopTransform) Apply(r connector.Record) (connector.Record, bool, error) { return r, true, nil }
func (nopTransform) Close() error                                             { return nil }

func testPlugins(t *testing.T) *Registry {
	r := NewRegistry()
	fileDef := configdef.New().Define(configdef.Key{Name: "file", Type: configdef.String, Default: ""})
	for _, err := range []error{
		r.RegisterConnector("org.apache.kafka.connect.file.FileStreamSourceConnector", func() connector.Connector { return nopSource{nopConnector{fileDef}} }),
		r.RegisterConnector("org.apache.kafka.connect.file.FileStreamSinkConnector", func() connector.Connector { return nopSink{} }),
		r.RegisterTransformation("org.apache.kafka.connect.transforms.InsertField$Value", func() connector.Transformation {
			return nopTransform{configdef.New().Define(configdef.Key{Name: "static.field", Type: configdef.String, Default: configdef.NoDefault})}
		}),
		r.RegisterTransformation("org.apache.kafka.connect.transforms.ReplaceField$Value", func() connector.Transformation { return nopTransform{} }),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func TestRegistryAliases(t *testing.T) {
	r := testPlugins(t)
	tests := []struct {
		name, class, kind string
		ok                bool
	}{
		{"org.apache.kafka.connect.file.FileStreamSourceConnector", "org.apache.kafka.connect.file.FileStreamSourceConnector", PluginSource, true},
		{"FileStreamSourceConnector", "org.apache.kafka.connect.file.FileStreamSourceConnector", PluginSource, true},
		{"FileStreamSource", "org.apache.kafka.connect.file.FileStreamSourceConnector", PluginSource, true},
		{"FileStreamSink", "org.apache.kafka.connect.file.FileStreamSinkConnector", PluginSink, true},
		{"org.apache.kafka.connect.transforms.InsertField$Value", "org.apache.kafka.connect.transforms.InsertField$Value", PluginTransformation, true},
		{"Value", "", "", false}, // ambiguous: both nested classes are "Value"
		{"FileStream", "", "", false},
		{"filestreamsource", "", "", false},
	}
	for _, tt := range tests {
		class, kind, ok := r.Class(tt.name)
		if class != tt.class || kind != tt.kind || ok != tt.ok {
			t.Errorf("Class(%q) = %q %q %v, want %q %q %v", tt.name, class, kind, ok, tt.class, tt.kind, tt.ok)
		}
	}
	if _, _, err := r.NewConnector("Nope"); !errors.Is(err, ErrBadRequest) {
		t.Errorf("NewConnector(Nope) = %v, want a bad request", err)
	}
	if err := r.RegisterConnector("org.apache.kafka.connect.file.FileStreamSinkConnector", func() connector.Connector { return nopSink{} }); err == nil {
		t.Error("registering a class twice succeeded")
	}
	got := r.Plugins(true)
	want := []PluginInfo{
		{Class: "org.apache.kafka.connect.file.FileStreamSinkConnector", Type: "sink", Version: "1.2"},
		{Class: "org.apache.kafka.connect.file.FileStreamSourceConnector", Type: "source", Version: "1.2"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Plugins(true) = %v", got)
	}
	if all := r.Plugins(false); len(all) != 4 || all[2].Type != PluginTransformation {
		t.Errorf("Plugins(false) = %v", all)
	}
}

func TestValidate(t *testing.T) {
	r := testPlugins(t)
	errorsOf := func(t *testing.T, props map[string]string) map[string][]string {
		t.Helper()
		infos, err := r.Validate(props)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]string{}
		n := 0
		for _, c := range infos.Configs {
			if c.Value != nil && len(c.Value.Errors) > 0 {
				out[c.Value.Name] = c.Value.Errors
				n += len(c.Value.Errors)
			}
		}
		if n != infos.ErrorCount {
			t.Errorf("error_count %d, but %d errors listed", infos.ErrorCount, n)
		}
		return out
	}
	tests := []struct {
		name  string
		props map[string]string
		want  []string // keys with errors
	}{
		{"valid source", map[string]string{"name": "a", "connector.class": "FileStreamSource"}, nil},
		{"empty name", map[string]string{"name": " ", "connector.class": "FileStreamSource"}, []string{"name"}},
		{"bad tasks.max", map[string]string{"name": "a", "connector.class": "FileStreamSource", "tasks.max": "0"}, []string{"tasks.max"}},
		{"bad tolerance", map[string]string{"name": "a", "connector.class": "FileStreamSource", "errors.tolerance": "some"}, []string{"errors.tolerance"}},
		{"sink without topics", map[string]string{"name": "a", "connector.class": "FileStreamSink"}, []string{"topics", "topics.regex"}},
		{"sink with both", map[string]string{"name": "a", "connector.class": "FileStreamSink", "topics": "t", "topics.regex": "t.*"}, []string{"topics", "topics.regex"}},
		{"sink DLQ in topics", map[string]string{"name": "a", "connector.class": "FileStreamSink", "topics": "t,d", "errors.deadletterqueue.topic.name": "d"}, []string{"topics"}},
		{"transform without type", map[string]string{"name": "a", "connector.class": "FileStreamSource", "transforms": "x"}, []string{"transforms.x.type"}},
		{"transform unknown", map[string]string{"name": "a", "connector.class": "FileStreamSource", "transforms": "x", "transforms.x.type": "Nope"}, []string{"transforms.x.type"}},
		{"transform own keys", map[string]string{"name": "a", "connector.class": "FileStreamSource", "transforms": "x",
			"transforms.x.type": "org.apache.kafka.connect.transforms.InsertField$Value"}, []string{"transforms.x.static.field"}},
		{"unknown converter", map[string]string{"name": "a", "connector.class": "FileStreamSource", "value.converter": "Nope"}, []string{"value.converter"}},
		{"duplicate alias", map[string]string{"name": "a", "connector.class": "FileStreamSource", "transforms": "x,x",
			"transforms.x.type": "org.apache.kafka.connect.transforms.ReplaceField$Value"}, []string{"transforms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errorsOf(t, tt.props)
			var keys []string
			for k := range got {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if !slices.Equal(keys, tt.want) {
				t.Errorf("keys with errors = %v (%v), want %v", keys, got, tt.want)
			}
		})
	}
	infos, _ := r.Validate(map[string]string{"name": "a", "connector.class": "FileStreamSource", "tasks.max": "0"})
	err := ConfigErrors(infos)
	want := "Connector configuration is invalid and contains the following 1 error(s):\nInvalid value 0 for configuration tasks.max: Value must be at least 1\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`"
	if err == nil || err.Error() != want {
		t.Errorf("ConfigErrors = %q,\nwant %q", err, want)
	}
	if _, err := r.Validate(map[string]string{"name": "a"}); !errors.Is(err, ErrBadRequest) {
		t.Errorf("Validate without connector.class = %v", err)
	}
	keys, err := r.PluginConfig("FileStreamSource")
	if err != nil || keys[0].Name != "file" || keys[1].Name != "name" {
		t.Errorf("PluginConfig = %v, %v", keys, err)
	}
	if _, err := r.PluginConfig("Nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("PluginConfig(Nope) = %v", err)
	}
}
