// Package streams holds Runnel Streams system tests and benchmarks: Streams
// applications against a real `runnel server` process, instances killed
// mid-way, and throughput beside goka and a bare franz-go pipe.
//
// The tests build the runnel binary into a temporary directory, start the
// server on a free port, and run application instances as subprocesses of
// the test binary itself (TestMain turns into an instance when
// RUNNEL_STREAMS_INSTANCE is set), so an instance can be killed with
// SIGKILL mid-way. RUNNEL_STREAMS_RECORDS sets the input size of the
// windowed-count test.
package streams
