package connect

import (
	"context"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// endOffset is the sum of a topic's end offsets, 0 when it does not exist.
func endOffset(ctx context.Context, addr, topic string) int64 {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return 0
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return 0
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			n += o.Offset
		}
	})
	return n
}

// FileStreamSource lines/s into a topic, beside kcat -P -l producing the
// same file to a topic of the same node.
func BenchmarkFileSource(b *testing.B) {
	const lines = 200_000
	n := startNode(b, newSpec(b))
	src := filepath.Join(b.TempDir(), "in.txt")
	writeLines(b, src, 0, lines)

	b.Run("connect", func(b *testing.B) {
		for i := range b.N {
			topic := "bench-connect-" + strconv.Itoa(i)
			start := time.Now()
			n.mustCall(b, "POST", "/connectors", sourceConfig(topic, src, topic), http.StatusCreated)
			waitFor(b, 5*time.Minute, "every line in the topic", func() bool {
				return endOffset(b.Context(), n.kafka, topic) >= lines
			})
			b.ReportMetric(float64(lines)/time.Since(start).Seconds(), "lines/s")
			n.mustCall(b, "DELETE", "/connectors/"+topic, "", http.StatusNoContent)
		}
	})
	b.Run("kcat", func(b *testing.B) {
		kcat, err := exec.LookPath("kcat")
		if err != nil {
			b.Skip("kcat not installed")
		}
		for i := range b.N {
			topic := "bench-kcat-" + strconv.Itoa(i)
			start := time.Now()
			out, err := exec.Command(kcat, "-P", "-l", "-b", n.kafka, "-t", topic, src).CombinedOutput()
			if err != nil {
				b.Fatalf("kcat: %v\n%s", err, out)
			}
			b.ReportMetric(float64(lines)/time.Since(start).Seconds(), "lines/s")
		}
	})
}
