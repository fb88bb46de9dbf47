package main

import (
	"testing"

	"github.com/runnel/runnel/broker/brokertest"
)

// startBroker starts a Runnel broker in-process with its defaults
// (num.partitions=1, auto.create.topics.enable=true) and returns its
// bootstrap address.
func startBroker(t *testing.T) string {
	t.Helper()
	return brokertest.Start(t).Addr
}
