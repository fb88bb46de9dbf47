package main

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

// startBroker starts a single-node Kafka-compatible cluster for the test and
// returns its bootstrap address. It is the one place that chooses the server:
// today franz-go's kfake, configured with Apache Kafka's defaults
// (num.partitions=1, auto.create.topics.enable=true); Runnel's own broker
// replaces it when it lands, and the tests, which assert Kafka behaviour,
// keep passing.
func startBroker(t *testing.T) string {
	t.Helper()
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.DefaultNumPartitions(1),
		kfake.AllowAutoTopicCreation(),
	)
	if err != nil {
		t.Fatalf("starting broker: %v", err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()[0]
}
