package streams_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/runnel/runnel/streams"
	"github.com/runnel/runnel/streams/serde"
	"github.com/runnel/runnel/streams/streamstest"
)

// Count words per minute, emitting each minute's final counts once the
// minute (plus ten seconds of grace) has passed.
func Example() {
	b := streams.NewBuilder()
	lines := streams.StreamOf(b, "lines", serde.String(), serde.String())
	words := streams.FlatMapValues(lines, func(_, line string) []string { return strings.Fields(line) })
	byWord := streams.GroupBy(words, func(_, w string) string { return w },
		streams.WithKeySerde(serde.String()), streams.WithValueSerde(serde.String()))
	counts := streams.Count(streams.WindowedBy(byWord, streams.Tumbling(time.Minute).Grace(10*time.Second)))
	windowKey := streams.TimeWindowedSerde(serde.String(), time.Minute)
	streams.Suppress(counts, streams.UntilWindowCloses()).ToStream().To("counts", windowKey, serde.Int64())

	topo, err := b.Build()
	if err != nil {
		panic(err)
	}
	d, err := streamstest.NewDriver(topo, map[string]string{"application.id": "wordcount"})
	if err != nil {
		panic(err)
	}
	defer d.Close()
	in := streamstest.CreateInputTopic(d, "lines", serde.String(), serde.String())
	_ = in.PipeInputAt("", "to be or not to be", 1_000)
	_ = in.PipeInputAt("", "that is the question", 65_000)
	_ = in.PipeInputAt("", "late", 75_000) // closes the first minute
	out := streamstest.CreateOutputTopic(d, "counts", windowKey, serde.Int64())
	recs, _ := out.ReadRecordsToList()
	for _, r := range recs {
		fmt.Printf("%s@%d: %d\n", r.Key.Key, r.Key.Window.Start, r.Value)
	}
	// Output:
	// be@0: 2
	// not@0: 1
	// or@0: 1
	// to@0: 2
}
