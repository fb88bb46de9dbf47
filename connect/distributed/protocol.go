package distributed

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// ErrProtocol reports member metadata or an assignment that is not in
// Kafka's Connect protocol layout.
var ErrProtocol = errors.New("distributed: malformed connect protocol data")

const (
	// protocolType is the JoinGroup protocol type of Connect workers.
	protocolType = "connect"
	// protocolEager is the name of Kafka's ConnectProtocol V0 (connect.protocol=eager).
	protocolEager = "default"
	// connectorTask is the task number that stands for the connector itself.
	connectorTask = -1
)

// Assignment errors, as Kafka's ConnectProtocol.Assignment defines them.
const (
	AssignmentNoError        int16 = 0
	AssignmentConfigMismatch int16 = 1 // the leader was behind the config topic
)

// WorkerState is a member's JoinGroup metadata: its REST URL and the
// offset up to which it has read the config topic.
type WorkerState struct {
	URL          string
	ConfigOffset int64
}

// TaskID names one task of a connector.
type TaskID struct {
	Connector string
	Task      int
}

func (t TaskID) String() string { return fmt.Sprintf("%s-%d", t.Connector, t.Task) }

// Assignment is what the leader hands one member in SyncGroup.
type Assignment struct {
	Error        int16
	Leader       string // member ID of the leader
	LeaderURL    string
	ConfigOffset int64
	Connectors   []string
	Tasks        []TaskID
}

// encodeWorkerState returns the member metadata bytes for JoinGroup.
func encodeWorkerState(s WorkerState) []byte {
	b := binary.BigEndian.AppendUint16(nil, 0)
	b = appendString(b, s.URL)
	return binary.BigEndian.AppendUint64(b, uint64(s.ConfigOffset))
}

// decodeWorkerState parses member metadata. Versions above 0 are read by
// their V0 prefix, as Kafka reads them.
func decodeWorkerState(b []byte) (WorkerState, error) {
	r := reader{b: b}
	v := r.int16()
	url := r.string()
	off := r.int64()
	if r.err != nil {
		return WorkerState{}, r.err
	}
	if v < 0 {
		return WorkerState{}, fmt.Errorf("%w: version %d", ErrProtocol, v)
	}
	return WorkerState{URL: url, ConfigOffset: off}, nil
}

// encodeAssignment returns the SyncGroup assignment bytes. Each connector
// appears once, with -1 first when the connector instance itself is
// assigned, then its tasks in the order given.
func encodeAssignment(a Assignment) []byte {
	b := binary.BigEndian.AppendUint16(nil, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(a.Error))
	b = appendString(b, a.Leader)
	b = appendString(b, a.LeaderURL)
	b = binary.BigEndian.AppendUint64(b, uint64(a.ConfigOffset))
	var order []string
	byConn := map[string][]int32{}
	add := func(c string, t int32) {
		if _, ok := byConn[c]; !ok {
			order = append(order, c)
		}
		byConn[c] = append(byConn[c], t)
	}
	for _, c := range a.Connectors {
		if !slices.Contains(byConn[c], connectorTask) {
			add(c, connectorTask)
		}
	}
	for _, t := range a.Tasks {
		add(t.Connector, int32(t.Task))
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(order)))
	for _, c := range order {
		b = appendString(b, c)
		b = binary.BigEndian.AppendUint32(b, uint32(len(byConn[c])))
		for _, t := range byConn[c] {
			b = binary.BigEndian.AppendUint32(b, uint32(t))
		}
	}
	return b
}

// decodeAssignment parses SyncGroup assignment bytes. An empty assignment
// (what a coordinator answers a member the leader left out) decodes to the
// zero Assignment with ok false.
func decodeAssignment(b []byte) (a Assignment, ok bool, err error) {
	if len(b) == 0 {
		return Assignment{}, false, nil
	}
	r := reader{b: b}
	v := r.int16()
	a.Error = r.int16()
	a.Leader = r.string()
	a.LeaderURL = r.string()
	a.ConfigOffset = r.int64()
	n := r.count(6)
	for range n {
		c := r.string()
		tn := r.count(4)
		for range tn {
			t := r.int32()
			if t == connectorTask {
				a.Connectors = append(a.Connectors, c)
			} else {
				a.Tasks = append(a.Tasks, TaskID{c, int(t)})
			}
		}
	}
	if r.err != nil {
		return Assignment{}, false, r.err
	}
	if v < 0 {
		return Assignment{}, false, fmt.Errorf("%w: version %d", ErrProtocol, v)
	}
	return a, true, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// reader decodes Kafka protocol primitives, remembering the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b) < n {
		r.err = fmt.Errorf("%w: truncated", ErrProtocol)
		return nil
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) int16() int16 {
	p := r.take(2)
	if p == nil {
		return 0
	}
	return int16(binary.BigEndian.Uint16(p))
}

func (r *reader) int32() int32 {
	p := r.take(4)
	if p == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(p))
}

func (r *reader) int64() int64 {
	p := r.take(8)
	if p == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(p))
}

func (r *reader) string() string {
	n := r.int16()
	if n < 0 {
		if r.err == nil {
			r.err = fmt.Errorf("%w: null string", ErrProtocol)
		}
		return ""
	}
	return string(r.take(int(n)))
}

// count reads an array length, rejecting one the remaining bytes cannot
// hold (each element at least size bytes), so garbage cannot make us
// allocate or loop without bound.
func (r *reader) count(size int) int {
	n := r.int32()
	if r.err != nil {
		return 0
	}
	if n < 0 || int(n) > len(r.b)/size {
		r.err = fmt.Errorf("%w: array length %d", ErrProtocol, n)
		return 0
	}
	return int(n)
}

// roundRobin assigns connectors, then tasks, over the members round-robin,
// members in member-ID order and work in name order, continuing the member
// rotation from the connectors into the tasks as Kafka's eager assignor
// does. Every member gets an entry, possibly empty.
func roundRobin(members []string, connectors map[string]int) map[string]*Assignment {
	out := make(map[string]*Assignment, len(members))
	ms := slices.Sorted(slices.Values(members))
	for _, m := range ms {
		out[m] = &Assignment{}
	}
	if len(ms) == 0 {
		return out
	}
	names := slices.Sorted(maps.Keys(connectors))
	i := 0
	for _, c := range names {
		a := out[ms[i%len(ms)]]
		a.Connectors = append(a.Connectors, c)
		i++
	}
	for _, c := range names {
		for t := range connectors[c] {
			a := out[ms[i%len(ms)]]
			a.Tasks = append(a.Tasks, TaskID{c, t})
			i++
		}
	}
	return out
}
