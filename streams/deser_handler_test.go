package streams_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/runnel/runnel/broker/brokertest"
	"github.com/runnel/runnel/streams"
	"github.com/runnel/runnel/streams/serde"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestDeserializationHandlerProperty(t *testing.T) {
	for _, k := range []string{"default.deserialization.exception.handler", "deserialization.exception.handler"} {
		for name, want := range map[string]streams.DeserializationResponse{
			"org.apache.kafka.streams.errors.LogAndContinueExceptionHandler": streams.DeserializationContinue,
			"LogAndFailExceptionHandler":                                     streams.DeserializationFail,
		} {
			c, err := streams.ConfigFromProperties(map[string]string{k: name})
			if err != nil {
				t.Fatalf("%s=%s: %v", k, name, err)
			}
			if got := c.DeserializationExceptionHandler(streams.DeserializationContext{}, errors.New("x")); got != want {
				t.Errorf("%s=%s decides %d, want %d", k, name, got, want)
			}
		}
		_, err := streams.ConfigFromProperties(map[string]string{k: "com.example.Nope"})
		if !errors.Is(err, streams.ErrConfig) || !strings.Contains(err.Error(), k) || !strings.Contains(err.Error(), "com.example.Nope") {
			t.Errorf("%s=com.example.Nope: err = %v, want streams.ErrConfig naming the key and value", k, err)
		}
	}
}

// TestAppDeserializationHandler runs an App over a topic holding a record
// its value serde rejects. LogAndContinue skips it (counted as dropped),
// processes the records around it and commits past it; the default
// LogAndFail stops the App with an error naming the record.
func TestAppDeserializationHandler(t *testing.T) {
	srv := brokertest.Start(t)
	cl, adm := newAdmin(t, srv.Addr)
	createTopic(t, adm, "nums", 1)
	i64 := func(n int64) []byte { b, _ := serde.Int64().Serialize("", n); return b }
	for _, v := range [][]byte{i64(1), []byte("not an int64"), i64(2), i64(3)} {
		if err := cl.ProduceSync(t.Context(), &kgo.Record{Topic: "nums", Key: []byte("k"), Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	run := func(appID, out string, h streams.DeserializationExceptionHandler, reg *prometheus.Registry) (*streams.App, chan error) {
		b := streams.NewBuilder()
		streams.StreamOf(b, "nums", serde.String(), serde.Int64()).To(out, serde.String(), serde.Int64())
		topo, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		createTopic(t, adm, out, 1)
		cfg := streams.Config{ApplicationID: appID, BootstrapServers: []string{srv.Addr}, StateDir: t.TempDir(),
			CommitInterval: 50 * time.Millisecond, DeserializationExceptionHandler: h}
		if reg != nil {
			cfg.Registerer = reg
		}
		app, err := streams.NewApp(topo, cfg)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- app.Run(context.Background()) }()
		return app, done
	}

	t.Run("continue", func(t *testing.T) {
		var seen []streams.DeserializationContext
		h := func(dc streams.DeserializationContext, err error) streams.DeserializationResponse {
			seen = append(seen, streams.DeserializationContext{Topic: dc.Topic, Partition: dc.Partition, Offset: dc.Offset,
				Node: dc.Node, Value: append([]byte(nil), dc.Value...)})
			return streams.LogAndContinue(dc, err)
		}
		reg := prometheus.NewRegistry()
		app, done := run("deser-continue", "nums-out", h, reg)
		defer func() {
			app.Close()
			if err := <-done; err != nil {
				t.Error(err)
			}
		}()
		// Every decodable record comes out, in order.
		out, err := kgo.NewClient(kgo.SeedBrokers(srv.Addr), kgo.ConsumeTopics("nums-out"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		var got []int64
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		for len(got) < 3 && ctx.Err() == nil {
			out.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
				v, _ := serde.Int64().Deserialize("", r.Value)
				got = append(got, v)
			})
		}
		if len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 3 {
			t.Fatalf("output %v, want [1 2 3]", got)
		}
		// The skipped record's offset is committed with the others, so a
		// restart does not meet it again.
		var committed int64
		for ctx.Err() == nil {
			offs, err := adm.FetchOffsets(ctx, "deser-continue")
			if err == nil {
				if o, ok := offs.Lookup("nums", 0); ok {
					if committed = o.At; committed == 4 {
						break
					}
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		if committed != 4 {
			t.Errorf("committed offset %d, want 4 (past every record)", committed)
		}
		app.Close()
		if len(seen) != 1 || seen[0].Topic != "nums" || seen[0].Partition != 0 || seen[0].Offset != 1 ||
			seen[0].Node != "KSTREAM-SOURCE-0000000000" || string(seen[0].Value) != "not an int64" {
			t.Errorf("handler saw %+v, want the record at nums-0 offset 1 from the source", seen)
		}
		if n := counterValue(t, reg, "runnel_streams_dropped_records_total"); n != 1 {
			t.Errorf("dropped records (deserialization error) = %v, want 1", n)
		}
	})

	t.Run("fail", func(t *testing.T) {
		app, done := run("deser-fail", "nums-out-2", nil, nil)
		defer app.Close()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "nums-0 offset 1") {
				t.Errorf("Run = %v, want an error naming nums-0 offset 1", err)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("the streams.App did not stop on the undecodable record")
		}
		offs, err := adm.FetchOffsets(t.Context(), "deser-fail")
		if err != nil {
			t.Fatal(err)
		}
		if o, ok := offs.Lookup("nums", 0); ok && o.At > 1 {
			t.Errorf("committed offset %d, past the record the streams.App failed on", o.At)
		}
	})
}
