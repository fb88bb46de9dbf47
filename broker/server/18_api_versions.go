package server

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ApiVersions v0–v4. A request with a version above ours is answered with
// v0 and UNSUPPORTED_VERSION listing our ranges (KIP-511), so clients retry
// with a version both sides speak.

type versionRange struct{ min, max int16 }

// supported lists every API Runnel serves and the versions it has tests
// for. Produce starts at v3 and Fetch at v4: Runnel stores only
// RecordBatch v2 and never converts down to message sets v0/v1.
var supported = map[int16]versionRange{
	kmsg.Produce.Int16():                 {3, 11},
	kmsg.Fetch.Int16():                   {4, 16},
	kmsg.ListOffsets.Int16():             {1, 8},
	kmsg.Metadata.Int16():                {0, 12},
	kmsg.ApiVersions.Int16():             {0, 4},
	kmsg.CreateTopics.Int16():            {0, 7},
	kmsg.DeleteTopics.Int16():            {0, 6},
	kmsg.DeleteRecords.Int16():           {0, 2},
	kmsg.OffsetForLeaderEpoch.Int16():    {0, 4},
	kmsg.DescribeConfigs.Int16():         {0, 4},
	kmsg.AlterConfigs.Int16():            {0, 2},
	kmsg.DescribeLogDirs.Int16():         {0, 4},
	kmsg.CreatePartitions.Int16():        {0, 3},
	kmsg.IncrementalAlterConfigs.Int16(): {0, 1},
	kmsg.DescribeCluster.Int16():         {0, 1},
	kmsg.OffsetCommit.Int16():            {0, 9},
	kmsg.OffsetFetch.Int16():             {0, 9},
	kmsg.FindCoordinator.Int16():         {0, 4},
	kmsg.JoinGroup.Int16():               {0, 9},
	kmsg.Heartbeat.Int16():               {0, 4},
	kmsg.LeaveGroup.Int16():              {0, 5},
	kmsg.SyncGroup.Int16():               {0, 5},
	kmsg.DescribeGroups.Int16():          {0, 5},
	kmsg.ListGroups.Int16():              {0, 5},
	kmsg.DeleteGroups.Int16():            {0, 2},
	kmsg.OffsetDelete.Int16():            {0, 0},
	kmsg.InitProducerID.Int16():          {0, 4},
	kmsg.AddPartitionsToTxn.Int16():      {0, 4},
	kmsg.AddOffsetsToTxn.Int16():         {0, 3},
	kmsg.EndTxn.Int16():                  {0, 4},
	kmsg.WriteTxnMarkers.Int16():         {0, 1},
	kmsg.TxnOffsetCommit.Int16():         {0, 3},
	kmsg.DescribeProducers.Int16():       {0, 0},
	kmsg.DescribeTransactions.Int16():    {0, 0},
	kmsg.ListTransactions.Int16():        {0, 1},
}

func apiVersionsResponse(version int16, code int16) *kmsg.ApiVersionsResponse {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.SetVersion(version)
	resp.ErrorCode = code
	keys := make([]int16, 0, len(supported))
	for k := range supported {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := supported[k]
		resp.ApiKeys = append(resp.ApiKeys, kmsg.ApiVersionsResponseApiKey{ApiKey: k, MinVersion: v.min, MaxVersion: v.max})
	}
	return resp
}
