package streams

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// StreamsProtocol is the group protocol name Runnel Streams members join
// with. Kafka Streams uses "stream" with its own binary subscription
// format; a different name makes the coordinator refuse a mix of Java and
// Runnel members in one application instead of letting them misread each
// other's metadata.
const StreamsProtocol = "runnel-stream"

// assignVersion is the version of the subscription and assignment user
// data below. Version 2 added standby tasks (Standby in both).
const assignVersion = 2

// subscriptionInfo is a member's user data in JoinGroup (Kafka's
// SubscriptionInfo): who it is and which tasks it had, so the leader keeps
// tasks where their state already is.
type subscriptionInfo struct {
	Version int `json:"version"`
	// ProcessID identifies the App instance; its threads share it.
	ProcessID string `json:"process_id"`
	// Endpoint is the instance's application.server, "" if unset.
	Endpoint string `json:"endpoint,omitempty"`
	// Active lists the tasks the member ran in the last generation.
	Active []string `json:"active,omitempty"`
	// State lists tasks with a checkpointed state directory on the
	// instance (Kafka's standby/previous tasks with local state).
	State []string `json:"state,omitempty"`
	// Standby lists the standby tasks the member kept in the last
	// generation.
	Standby []string `json:"standby,omitempty"`
}

// assignmentInfo is the user data of each member's assignment (Kafka's
// AssignmentInfo).
type assignmentInfo struct {
	Version int `json:"version"`
	// Active lists the member's tasks.
	Active []string `json:"active"`
	// Standby lists the tasks whose stores the member keeps current from
	// their changelogs without running them (num.standby.replicas).
	Standby []string `json:"standby,omitempty"`
	// Hosts maps every application.server endpoint in the group to the
	// tasks its members run, for interactive queries.
	Hosts map[string][]string `json:"hosts,omitempty"`
	// Partitions holds the partition count of every source topic.
	Partitions map[string]int32 `json:"partitions,omitempty"`
}

// taskBalancer is the kgo.GroupBalancer of a Streams thread: the group
// leader's instance assigns tasks, not partitions, and gives every member
// all the partitions of its tasks, so co-partitioned partitions stay
// together.
type taskBalancer struct {
	topo  *Topology
	appID string
	// standbys is num.standby.replicas: the standby copies of each
	// stateful task the leader assigns.
	standbys int
	// subscription returns the member's current user data.
	subscription func() subscriptionInfo
	// assigned receives the member's parsed assignment.
	assigned func(assignmentInfo)
}

var _ kgo.GroupBalancer = (*taskBalancer)(nil)

func (b *taskBalancer) ProtocolName() string { return StreamsProtocol }
func (b *taskBalancer) IsCooperative() bool  { return false }

func (b *taskBalancer) JoinGroupMetadata(topics []string, _ map[string][]int32, _ int32) []byte {
	meta := kmsg.NewConsumerMemberMetadata()
	meta.Topics = topics
	sub := b.subscription()
	sub.Version = assignVersion
	slices.Sort(sub.Active)
	slices.Sort(sub.State)
	slices.Sort(sub.Standby)
	meta.UserData, _ = json.Marshal(sub)
	return meta.AppendTo(nil)
}

func (b *taskBalancer) ParseSyncAssignment(assignment []byte) (map[string][]int32, error) {
	var a kmsg.ConsumerMemberAssignment
	if err := a.ReadFrom(assignment); err != nil {
		return nil, fmt.Errorf("streams: parse assignment: %w", err)
	}
	var info assignmentInfo
	if len(a.UserData) > 0 {
		if err := json.Unmarshal(a.UserData, &info); err != nil {
			return nil, fmt.Errorf("streams: parse assignment user data: %w", err)
		}
	}
	if b.assigned != nil {
		b.assigned(info)
	}
	out := make(map[string][]int32, len(a.Topics))
	for _, t := range a.Topics {
		out[t.Topic] = t.Partitions
	}
	return out, nil
}

func (b *taskBalancer) MemberBalancer(members []kmsg.JoinGroupResponseMember) (kgo.GroupMemberBalancer, map[string]struct{}, error) {
	p := &planner{topo: b.topo, appID: b.appID, standbys: b.standbys}
	topics := map[string]struct{}{}
	seen := map[string]bool{}
	for _, m := range members {
		if seen[m.MemberID] {
			continue
		}
		seen[m.MemberID] = true
		var meta kmsg.ConsumerMemberMetadata
		if err := meta.ReadFrom(m.ProtocolMetadata); err != nil {
			return nil, nil, fmt.Errorf("streams: member %s: parse metadata: %w", m.MemberID, err)
		}
		var sub subscriptionInfo
		if len(meta.UserData) > 0 {
			if err := json.Unmarshal(meta.UserData, &sub); err != nil {
				return nil, nil, fmt.Errorf("streams: member %s: parse subscription: %w", m.MemberID, err)
			}
		}
		for _, t := range meta.Topics {
			topics[t] = struct{}{}
		}
		p.members = append(p.members, memberSub{id: m.MemberID, sub: sub})
	}
	for _, t := range b.topo.allSourceTopics(b.appID) {
		topics[t] = struct{}{}
	}
	return p, topics, nil
}

// memberSub is one member and its subscription.
type memberSub struct {
	id  string
	sub subscriptionInfo
}

// planner balances one generation.
type planner struct {
	topo     *Topology
	appID    string
	standbys int // num.standby.replicas
	members  []memberSub
}

func (p *planner) Balance(map[string]int32) kgo.IntoSyncAssignment { panic("unreachable") }

// BalanceOrError assigns tasks to members and turns them into partitions.
func (p *planner) BalanceOrError(counts map[string]int32) (kgo.IntoSyncAssignment, error) {
	var tasks []TaskID
	for _, id := range p.topo.Subtopologies() {
		srcs := p.topo.SourceTopics(id, p.appID)
		var n int32
		for i, tp := range srcs {
			c, ok := counts[tp]
			if !ok {
				return nil, fmt.Errorf("%w %q", ErrMissingSourceTopic, tp)
			}
			if len(p.topo.subStores(id)) > 0 && i > 0 && c != counts[srcs[0]] {
				return nil, fmt.Errorf("%w: sub-topology %d reads %s (%d partitions) and %s (%d partitions)", ErrCopartition, id, srcs[0], counts[srcs[0]], tp, c)
			}
			n = max(n, c)
		}
		for part := range n {
			tasks = append(tasks, TaskID{Subtopology: id, Partition: part})
		}
	}
	plan := assignTasks(tasks, p.members)
	stores := p.topo.storeInfos()
	stateful := func(t TaskID) bool {
		for _, s := range p.topo.subStores(t.Subtopology) {
			if stores[s].logged {
				return true
			}
		}
		return false
	}
	standby := assignStandbys(tasks, stateful, p.standbys, p.members, plan)
	hosts := map[string][]string{}
	for _, m := range p.members {
		if m.sub.Endpoint == "" {
			continue
		}
		for _, t := range plan[m.id] {
			hosts[m.sub.Endpoint] = append(hosts[m.sub.Endpoint], t.String())
		}
	}
	partitions := map[string]int32{}
	for _, tp := range p.topo.allSourceTopics(p.appID) {
		partitions[tp] = counts[tp]
	}
	var out syncPlan
	for _, m := range p.members {
		a := kmsg.NewConsumerMemberAssignment()
		byTopic := map[string][]int32{}
		info := assignmentInfo{Version: assignVersion, Active: []string{}, Hosts: hosts, Partitions: partitions}
		for _, t := range plan[m.id] {
			info.Active = append(info.Active, t.String())
			for tp, part := range taskPartitions(t, p.topo.SourceTopics(t.Subtopology, p.appID), counts) {
				byTopic[tp] = append(byTopic[tp], part)
			}
		}
		for _, t := range standby[m.id] {
			info.Standby = append(info.Standby, t.String())
		}
		for _, tp := range sortedKeys(byTopic) {
			parts := byTopic[tp]
			slices.Sort(parts)
			a.Topics = append(a.Topics, kmsg.ConsumerMemberAssignmentTopic{Topic: tp, Partitions: parts})
		}
		a.UserData, _ = json.Marshal(info)
		out = append(out, kmsg.SyncGroupRequestGroupAssignment{MemberID: m.id, MemberAssignment: a.AppendTo(nil)})
	}
	return out, nil
}

// syncPlan is a finished assignment.
type syncPlan []kmsg.SyncGroupRequestGroupAssignment

func (s syncPlan) IntoSyncAssignment() []kmsg.SyncGroupRequestGroupAssignment { return s }

// assignTasks spreads tasks over members, sticky as Kafka's assignor: a
// member keeps the tasks it ran while it is under its share
// (ceil(tasks/members)); then tasks go to a member with local state for
// them; the rest go, in task order, to the least loaded member. Ties break
// by member ID, so the plan is deterministic.
func assignTasks(tasks []TaskID, members []memberSub) map[string][]TaskID {
	out := map[string][]TaskID{}
	if len(members) == 0 {
		return out
	}
	ms := slices.Clone(members)
	slices.SortFunc(ms, func(a, b memberSub) int { return cmp.Compare(a.id, b.id) })
	limit := (len(tasks) + len(ms) - 1) / len(ms)
	owner := map[TaskID]string{}
	load := map[string]int{}
	give := func(t TaskID, m string) {
		owner[t] = m
		load[m]++
		out[m] = append(out[m], t)
	}
	claim := func(list func(subscriptionInfo) []string) {
		for _, t := range tasks {
			if _, done := owner[t]; done {
				continue
			}
			best := ""
			for _, m := range ms {
				if load[m.id] >= limit || !slices.Contains(list(m.sub), t.String()) {
					continue
				}
				if best == "" || load[m.id] < load[best] {
					best = m.id
				}
			}
			if best != "" {
				give(t, best)
			}
		}
	}
	claim(func(s subscriptionInfo) []string { return s.Active })
	claim(func(s subscriptionInfo) []string { return s.State })
	for _, t := range tasks {
		if _, done := owner[t]; done {
			continue
		}
		best := ms[0].id
		for _, m := range ms[1:] {
			if load[m.id] < load[best] {
				best = m.id
			}
		}
		give(t, best)
	}
	for _, m := range ms {
		slices.SortFunc(out[m.id], compareTaskIDs)
	}
	return out
}

// assignStandbys places up to replicas standby copies of every stateful
// task (num.standby.replicas), as Kafka Streams' assignor does: each copy
// on an instance (ProcessID) other than the active task's and the other
// copies', so fewer instances than replicas+1 mean fewer copies, never two
// on one instance. Copies are placed one round at a time (every task's
// first copy, then every task's second), each on the least loaded eligible
// member, counting active and standby tasks, except that a member under
// its share which already holds the task's state (it ran the task, kept a
// standby of it, or its instance has a checkpoint for it) is preferred, so
// a standby stays where its state is. Ties break by member ID.
func assignStandbys(tasks []TaskID, stateful func(TaskID) bool, replicas int, members []memberSub, active map[string][]TaskID) map[string][]TaskID {
	out := map[string][]TaskID{}
	if replicas <= 0 || len(members) == 0 {
		return out
	}
	ms := slices.Clone(members)
	slices.SortFunc(ms, func(a, b memberSub) int { return cmp.Compare(a.id, b.id) })
	process := func(m memberSub) string {
		if m.sub.ProcessID == "" {
			return "member:" + m.id // an unknown instance is its own
		}
		return m.sub.ProcessID
	}
	instances := map[string]bool{}
	for _, m := range ms {
		instances[process(m)] = true
	}
	copies := min(replicas, len(instances)-1)
	if copies <= 0 {
		return out
	}
	load := map[string]int{}
	holder := map[TaskID]map[string]bool{} // task → instances holding a copy
	total := 0
	for _, m := range ms {
		load[m.id] = len(active[m.id])
		total += len(active[m.id])
		for _, t := range active[m.id] {
			holder[t] = map[string]bool{process(m): true}
		}
	}
	var stateTasks []TaskID
	for _, t := range tasks {
		if stateful(t) && holder[t] != nil {
			stateTasks = append(stateTasks, t)
		}
	}
	total += len(stateTasks) * copies
	limit := (total + len(ms) - 1) / len(ms)
	// tier ranks a member for a standby of t: 0 it kept the task itself,
	// 1 its instance has the task's state, 2 neither (or it is full).
	tier := func(m memberSub, t TaskID) int {
		if load[m.id] >= limit {
			return 2
		}
		s := t.String()
		switch {
		case slices.Contains(m.sub.Standby, s) || slices.Contains(m.sub.Active, s):
			return 0
		case slices.Contains(m.sub.State, s):
			return 1
		}
		return 2
	}
	for range copies {
		for _, t := range stateTasks {
			var best *memberSub
			for i := range ms {
				m := &ms[i]
				if holder[t][process(*m)] {
					continue
				}
				if best == nil || tier(*m, t) < tier(*best, t) || tier(*m, t) == tier(*best, t) && load[m.id] < load[best.id] {
					best = m
				}
			}
			if best == nil {
				continue
			}
			holder[t][process(*best)] = true
			load[best.id]++
			out[best.id] = append(out[best.id], t)
		}
	}
	for _, m := range ms {
		slices.SortFunc(out[m.id], compareTaskIDs)
	}
	return out
}

func compareTaskIDs(a, b TaskID) int {
	return cmp.Or(cmp.Compare(a.Subtopology, b.Subtopology), cmp.Compare(a.Partition, b.Partition))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
