package connect

import (
	"log/slog"
	"strings"
	"testing"
)

func TestClientSettings(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	worker := WorkerConfig{ClientOverridePolicy: "All", Props: map[string]string{
		"producer.linger.ms": "5", "consumer.max.poll.records": "50", "producer.acks": "1",
	}}
	conn := map[string]string{"producer.override.linger.ms": "7", "consumer.override.group.id": "custom", "consumer.override.max.poll.records": "20"}
	p := clientProps(worker, conn, "producer")
	if p["linger.ms"] != "7" || p["acks"] != "1" {
		t.Errorf("producer props = %v", p)
	}
	c := clientProps(worker, conn, "consumer")
	_, s, err := consumerOpts(c, []string{"x:1"}, "id", "conn", log)
	if err != nil || s.group != "custom" || s.maxPollRecords != 20 {
		t.Errorf("consumer settings = %+v, %v", s, err)
	}
	if SinkGroup("conn", conn) != "custom" || SinkGroup("conn", nil) != "connect-conn" {
		t.Errorf("SinkGroup = %s / %s", SinkGroup("conn", conn), SinkGroup("conn", nil))
	}
	worker.ClientOverridePolicy = "None"
	if p := clientProps(worker, conn, "producer"); p["linger.ms"] != "5" {
		t.Errorf("with policy None the override applied: %v", p)
	}

	bad := []struct {
		role, key, value string
	}{
		{"producer", "acks", "2"},
		{"producer", "linger.ms", "soon"},
		{"producer", "compression.type", "brotli"},
		{"producer", "security.protocol", "SASL_SSL"},
		{"consumer", "auto.offset.reset", "middle"},
		{"consumer", "max.poll.records", "0"},
		{"consumer", "isolation.level", "dirty"},
		{"consumer", "partition.assignment.strategy", "org.example.MyAssignor"},
	}
	for _, b := range bad {
		var err error
		props := map[string]string{b.key: b.value}
		if b.role == "producer" {
			_, err = producerOpts(props, []string{"x:1"}, "id", log)
		} else {
			_, _, err = consumerOpts(props, []string{"x:1"}, "id", "c", log)
		}
		if err == nil || !strings.Contains(err.Error(), b.key) && !strings.Contains(err.Error(), b.value) {
			t.Errorf("%s %s=%s: err = %v, want one naming it", b.role, b.key, b.value, err)
		}
	}
}
