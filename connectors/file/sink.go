package file

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"os"
	"sync"

	"github.com/runnel/runnel/connect/configdef"
	"github.com/runnel/runnel/connect/connector"
	"github.com/runnel/runnel/connect/data"
)

// SinkConfig is FileStreamSink's configuration.
type SinkConfig struct {
	File string `config:"file"` // file; empty = standard output
}

func sinkDef() *configdef.Def {
	return configdef.New().Define(configdef.Key{Name: "file", Type: configdef.String, Default: nil,
		Importance: configdef.High, Documentation: "File the values are appended to; standard output when unset."})
}

// Sink is the FileStreamSink connector.
type Sink struct {
	props map[string]string
}

var _ connector.SinkConnector = (*Sink)(nil)

// NewSink returns a FileStreamSink connector.
func NewSink() *Sink { return &Sink{} }

// Version implements connector.Connector.
func (*Sink) Version() string { return Version }

// ConfigDef declares file. (topics and topics.regex are the runtime's.)
func (*Sink) ConfigDef() *configdef.Def { return sinkDef() }

// Start validates the configuration.
func (s *Sink) Start(_ connector.ConnectorContext, props map[string]string) error {
	var cfg SinkConfig
	if err := sinkDef().Decode(props, &cfg); err != nil {
		return err
	}
	s.props = props
	return nil
}

// TaskConfigs returns maxTasks copies of the configuration, as Kafka does.
func (s *Sink) TaskConfigs(maxTasks int) ([]map[string]string, error) {
	out := make([]map[string]string, maxTasks)
	for i := range out {
		out[i] = maps.Clone(s.props)
	}
	return out, nil
}

// Stop has nothing to stop.
func (*Sink) Stop() error { return nil }

// NewTask returns a task writing the file.
func (*Sink) NewTask() connector.SinkTask { return NewSinkTask() }

// SinkTask appends record values to the file.
type SinkTask struct {
	stdout io.Writer // standard output; os.Stdout unless a test sets it

	mu   sync.Mutex // guards everything below
	name string
	file *os.File // nil for standard output
	w    *bufio.Writer
}

var _ connector.SinkTask = (*SinkTask)(nil)

// NewSinkTask returns an unstarted task.
func NewSinkTask() *SinkTask { return &SinkTask{stdout: os.Stdout} }

// Version implements connector.SinkTask.
func (*SinkTask) Version() string { return Version }

// Start opens the file for appending, creating it if needed.
func (t *SinkTask) Start(_ connector.SinkTaskContext, props map[string]string) error {
	var cfg SinkConfig
	if err := sinkDef().Decode(props, &cfg); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if cfg.File == "" {
		t.name, t.w = "stdout", bufio.NewWriter(t.stdout)
		return nil
	}
	f, err := os.OpenFile(cfg.File, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("file: couldn't find or create file '%s' for FileStreamSinkTask: %w", cfg.File, err)
	}
	t.name, t.file, t.w = cfg.File, f, bufio.NewWriterSize(f, 256<<10)
	return nil
}

// Open has nothing to do.
func (*SinkTask) Open([]connector.TopicPartition) error { return nil }

// Put writes one line per record: its value as Java's toString prints it
// ("null" for a null value).
func (t *SinkTask) Put(records []connector.SinkRecord) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.w == nil {
		return fmt.Errorf("file: Put on a sink task that is not started")
	}
	for _, r := range records {
		var err error
		if s, ok := r.Value.(string); ok {
			_, err = t.w.WriteString(s)
		} else {
			_, err = t.w.WriteString(data.Format(r.Value))
		}
		if err == nil {
			err = t.w.WriteByte('\n')
		}
		if err != nil {
			return fmt.Errorf("file: write %s: %w", t.name, err)
		}
	}
	// As Kafka's sink prints each line straight to the file, the lines of
	// a Put reach it now (one write); PreCommit makes them durable.
	if err := t.w.Flush(); err != nil {
		return fmt.Errorf("file: write %s: %w", t.name, err)
	}
	return nil
}

// PreCommit syncs the written lines to disk, so that the offsets the
// runtime then commits never run ahead of the file.
func (t *SinkTask) PreCommit(offsets map[connector.TopicPartition]int64) (map[connector.TopicPartition]int64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.flush(); err != nil {
		return nil, err
	}
	return offsets, nil
}

func (t *SinkTask) flush() error {
	if t.w == nil {
		return nil
	}
	if err := t.w.Flush(); err != nil {
		return fmt.Errorf("file: flush %s: %w", t.name, err)
	}
	if t.file != nil {
		if err := t.file.Sync(); err != nil {
			return fmt.Errorf("file: sync %s: %w", t.name, err)
		}
	}
	return nil
}

// Close has nothing to do: lines are flushed by PreCommit and Stop.
func (*SinkTask) Close([]connector.TopicPartition) error { return nil }

// Stop flushes and closes the file.
func (t *SinkTask) Stop() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	err := t.flush()
	if t.file != nil {
		if cerr := t.file.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("file: close %s: %w", t.name, cerr)
		}
		t.file = nil
	}
	t.w = nil
	return err
}
