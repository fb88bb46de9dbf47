package streams

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// ErrCopartition is returned (wrapped) when topics a sub-topology joins do
// not have the same number of partitions.
var ErrCopartition = errors.New("streams: topics are not co-partitioned")

// ErrMissingSourceTopic is returned (wrapped) when a source topic does not
// exist when the App starts.
var ErrMissingSourceTopic = errors.New("streams: missing source topic")

// storeInfo is what the runtime needs to know of a store: whether it is
// logged and kept on disk, and how to configure its changelog topic.
type storeInfo struct {
	name       string
	sub        int
	logged     bool
	persistent bool
	windowed   bool  // window or session store: changelog compact,delete
	retention  int64 // ms, window and session stores
	logConfig  map[string]string
}

// storeInfos describes every store of the non-global sub-topologies.
func (t *Topology) storeInfos() map[string]storeInfo {
	out := map[string]storeInfo{}
	for _, g := range t.subs {
		if g.global {
			continue
		}
		for _, n := range g.nodes {
			for _, s := range n.stores {
				if _, ok := out[s]; ok {
					continue
				}
				sb := t.stores[s]
				si := storeInfo{name: s, sub: g.id, logged: sb.Logged()}
				var o storeOptions
				switch b := sb.(type) {
				case *kvBuilder:
					o = b.opts
				case *winBuilder:
					o = b.opts
					si.windowed, si.retention = true, max(b.retention, b.size)
				case *sessBuilder:
					o = b.opts
					si.windowed, si.retention = true, b.retention
				case *outerBuilder:
					o = b.opts
				default:
					o = storeOptions{}
				}
				si.persistent, si.logConfig = o.persistent, o.logConfig
				out[s] = si
			}
		}
	}
	return out
}

// subStores returns the stores of sub-topology id in opening order.
func (t *Topology) subStores(id int) []string {
	var out []string
	for _, g := range t.subs {
		if g.id != id {
			continue
		}
		for _, n := range g.nodes {
			for _, s := range n.stores {
				if !slices.Contains(out, s) {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// allSourceTopics returns every topic the non-global sub-topologies read,
// internal ones prefixed.
func (t *Topology) allSourceTopics(appID string) []string {
	var out []string
	for _, id := range t.Subtopologies() {
		out = append(out, t.SourceTopics(id, appID)...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// repartitionWriters maps each repartition topic (prefixed) to the
// sub-topologies whose sinks write to it.
func (t *Topology) repartitionWriters(appID string) map[string][]int {
	subOf := map[string]int{}
	for _, g := range t.subs {
		for _, n := range g.nodes {
			subOf[n.name] = g.id
		}
	}
	out := map[string][]int{}
	for _, n := range t.nodes {
		if n.kind == sinkNode && n.internal {
			tp := t.runtimeTopic(n.topic, true, appID)
			if !slices.Contains(out[tp], subOf[n.name]) {
				out[tp] = append(out[tp], subOf[n.name])
			}
		}
	}
	return out
}

// partitionPlan resolves the partition count of every topic the
// sub-topologies read and checks co-partitioning, as Kafka Streams'
// internal topic manager and co-partitioned topics enforcer do:
//
//   - a repartition topic that exists keeps its count, one made by
//     Repartition with WithNumPartitions has that count; a new one gets the
//     largest count among the source topics of the sub-topologies writing
//     to it, resolved in rounds since those may read repartition topics;
//   - in a sub-topology with state stores and several source topics (a
//     join), new repartition topics take the count of the other sources,
//     and sources that already exist must agree, or ErrCopartition.
//
// known holds the counts of the topics that exist. The result holds every
// source topic's count and the number of tasks of each sub-topology.
func (t *Topology) partitionPlan(appID string, known map[string]int32) (topics map[string]int32, tasks map[int]int32, err error) {
	topics = map[string]int32{}
	for _, tp := range t.allSourceTopics(appID) {
		if n, ok := known[tp]; ok {
			topics[tp] = n
		}
	}
	repart := t.RepartitionTopics(appID)
	for _, tp := range repart {
		if n, ok := known[tp]; ok {
			topics[tp] = n
		}
	}
	for _, tp := range t.allSourceTopics(appID) {
		if _, ok := topics[tp]; !ok && !slices.Contains(repart, tp) {
			return nil, nil, fmt.Errorf("%w %q", ErrMissingSourceTopic, tp)
		}
	}
	writers := t.repartitionWriters(appID)
	existing := map[string]bool{}
	for tp := range topics {
		existing[tp] = true
	}
	// Repartition(WithNumPartitions(n)) fixes a new topic's count.
	for tp, n := range t.RepartitionPartitions(appID) {
		if !existing[tp] {
			topics[tp], existing[tp] = n, true
		}
	}
	// Copartition fix-up for joins first: new repartition topics feeding a
	// join take the count of that join's existing inputs.
	enforce := func() error {
		for _, id := range t.Subtopologies() {
			srcs := t.SourceTopics(id, appID)
			if len(srcs) < 2 || len(t.subStores(id)) == 0 {
				continue
			}
			var fixed []string
			want := int32(-1)
			for _, tp := range srcs {
				n, ok := topics[tp]
				if !ok || !existing[tp] {
					continue
				}
				fixed = append(fixed, tp)
				if want >= 0 && n != want {
					return fmt.Errorf("%w: sub-topology %d reads %s (%d partitions) and %s (%d partitions); they must have the same number of partitions",
						ErrCopartition, id, fixed[0], topics[fixed[0]], tp, n)
				}
				want = n
			}
			if want < 0 {
				// Only new repartition topics: they all take the largest
				// count known for any of them.
				for _, tp := range srcs {
					want = max(want, topics[tp])
				}
				if want <= 0 {
					continue
				}
			}
			for _, tp := range srcs {
				if !existing[tp] {
					topics[tp] = want
				}
			}
		}
		return nil
	}
	for round := 0; round <= len(repart); round++ {
		changed := false
		for _, tp := range repart {
			if existing[tp] {
				continue
			}
			var n int32
			for _, w := range writers[tp] {
				for _, src := range t.SourceTopics(w, appID) {
					n = max(n, topics[src])
				}
			}
			if n > topics[tp] {
				topics[tp], changed = n, true
			}
		}
		if err := enforce(); err != nil {
			return nil, nil, err
		}
		if !changed {
			break
		}
	}
	tasks = map[int]int32{}
	for _, id := range t.Subtopologies() {
		var n int32
		for _, tp := range t.SourceTopics(id, appID) {
			if topics[tp] <= 0 {
				return nil, nil, fmt.Errorf("%w: cannot resolve the partition count of %q", ErrTopology, tp)
			}
			n = max(n, topics[tp])
		}
		tasks[id] = n
	}
	return topics, tasks, nil
}

// changelogConfig returns the topic configs of a store's changelog:
// compacted, or compact,delete with retention for window and session
// stores, plus the store's own logging configs.
func changelogConfig(si storeInfo, additional time.Duration) map[string]*string {
	cfg := map[string]*string{}
	set := func(k, v string) { cfg[k] = &v }
	set("cleanup.policy", "compact")
	if si.windowed {
		set("cleanup.policy", "compact,delete")
		set("retention.ms", strconv.FormatInt(si.retention+additional.Milliseconds(), 10))
	}
	for k, v := range si.logConfig {
		set(k, v)
	}
	return cfg
}

// repartitionConfig returns the topic configs of a repartition topic, as
// Kafka Streams creates them.
func repartitionConfig() map[string]*string {
	cfg := map[string]*string{}
	set := func(k, v string) { cfg[k] = &v }
	set("cleanup.policy", "delete")
	set("segment.bytes", "52428800")
	set("retention.ms", "-1")
	return cfg
}

// taskPartitions returns the source partitions of a task: partition p of
// each of its sub-topology's topics that has that many partitions.
func taskPartitions(id TaskID, sources []string, counts map[string]int32) map[string]int32 {
	out := map[string]int32{}
	for _, tp := range sources {
		if id.Partition < counts[tp] {
			out[tp] = id.Partition
		}
	}
	return out
}

// parseTaskID parses "<subtopology>_<partition>".
func parseTaskID(s string) (TaskID, error) {
	for i := 0; i < len(s); i++ {
		if s[i] == '_' {
			sub, err1 := strconv.Atoi(s[:i])
			p, err2 := strconv.ParseInt(s[i+1:], 10, 32)
			if err1 != nil || err2 != nil || sub < 0 || p < 0 {
				break
			}
			return TaskID{Subtopology: sub, Partition: int32(p)}, nil
		}
	}
	return TaskID{}, fmt.Errorf("streams: bad task id %q", s)
}
