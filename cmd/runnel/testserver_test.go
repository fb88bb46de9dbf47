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

// needsGroups skips a test that needs the group coordinator, which Runnel
// gains with consumer groups (issue 4).
func needsGroups(t *testing.T) {
	t.Helper()
	t.Skip("needs consumer groups (FindCoordinator, JoinGroup, OffsetCommit): issue 4")
}
