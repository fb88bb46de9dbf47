package connect

import (
	"strings"

	"github.com/runnel/runnel/connect/connector"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func sourceRecord(partition string, n int) connector.SourceRecord {
	return connector.SourceRecord{
		SourcePartition: map[string]any{"p": partition},
		SourceOffset:    map[string]any{"n": n},
	}
}

func offsetsByPartition(offs []ConnectorOffset) map[string]int {
	out := map[string]int{}
	for _, o := range offs {
		out[o.Partition["p"].(string)] = o.Offset["n"].(int)
	}
	return out
}
