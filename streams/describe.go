package streams

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Description is a topology's shape, as Kafka's TopologyDescription: its
// String form is byte for byte the text Kafka Streams prints for the same
// graph, so tooling and eyes used to Kafka read it unchanged.
type Description struct {
	Subtopologies []SubtopologyDescription
	GlobalStores  []GlobalStoreDescription
}

// SubtopologyDescription lists one sub-topology's nodes in Kafka's order:
// larger sub-trees first, then by name.
type SubtopologyDescription struct {
	ID    int
	Nodes []NodeDescription
}

// GlobalStoreDescription is a global store's source and processor.
type GlobalStoreDescription struct {
	ID        int
	Source    NodeDescription
	Processor NodeDescription
}

// NodeKind is the kind of a described node.
type NodeKind int

// Node kinds.
const (
	SourceKind NodeKind = iota
	ProcessorKind
	SinkKind
)

// NodeDescription describes one node. Topics is set for sources, Stores for
// processors, Topic for sinks with a static topic (empty when a
// TopicNameExtractor chooses it).
type NodeDescription struct {
	Name         string
	Kind         NodeKind
	Topics       []string
	Stores       []string
	Topic        string
	Predecessors []string
	Successors   []string
}

// Describe returns the topology's description.
func (t *Topology) Describe() Description {
	var d Description
	for _, g := range t.subs {
		if g.global {
			var src, proc NodeDescription
			for _, nd := range t.describeNodes(g) {
				if nd.Kind == SourceKind {
					src = nd
				} else if nd.Kind == ProcessorKind {
					proc = nd
				}
			}
			d.GlobalStores = append(d.GlobalStores, GlobalStoreDescription{ID: g.id, Source: src, Processor: proc})
			continue
		}
		d.Subtopologies = append(d.Subtopologies, SubtopologyDescription{ID: g.id, Nodes: t.describeNodes(g)})
	}
	return d
}

// describeNodes orders a group's nodes, and every node's neighbours, as
// Kafka's node comparator does: by the size of the sub-tree rooted at the
// node (counting every path), largest first, then by name.
func (t *Topology) describeNodes(g *subtopology) []NodeDescription {
	size := map[string]int{}
	var sizeOf func(n *node) int
	sizeOf = func(n *node) int {
		if s, ok := size[n.name]; ok {
			return s
		}
		s := 1
		for _, c := range n.children {
			s += sizeOf(t.byName[c])
		}
		size[n.name] = s
		return s
	}
	order := func(names []string) []string {
		out := slices.Clone(names)
		slices.SortFunc(out, func(a, b string) int {
			if c := cmp.Compare(sizeOf(t.byName[b]), sizeOf(t.byName[a])); c != 0 {
				return c
			}
			return strings.Compare(a, b)
		})
		return slices.Compact(out)
	}
	var names []string
	for _, n := range g.nodes {
		names = append(names, n.name)
	}
	var out []NodeDescription
	for _, name := range order(names) {
		n := t.byName[name]
		nd := NodeDescription{
			Name:         n.name,
			Predecessors: order(n.parents),
			Successors:   order(n.children),
		}
		switch n.kind {
		case sourceNode:
			nd.Kind = SourceKind
			nd.Topics = javaHashSetOrder(n.topics)
		case processorNode:
			nd.Kind = ProcessorKind
			nd.Stores = javaHashSetOrder(n.stores)
			if nd.Stores == nil {
				nd.Stores = []string{}
			}
		case sinkNode:
			nd.Kind = SinkKind
			if n.extractor == nil {
				nd.Topic = n.topic
			}
		}
		out = append(out, nd)
	}
	return out
}

// String prints the description in Kafka's TopologyDescription format.
func (d Description) String() string {
	var sb strings.Builder
	sb.WriteString("Topologies:\n ")
	si, gi := 0, 0
	for expected := 0; si < len(d.Subtopologies) && gi < len(d.GlobalStores); expected++ {
		sb.WriteString("  ")
		if d.Subtopologies[si].ID == expected {
			sb.WriteString(d.Subtopologies[si].String())
			si++
		} else {
			sb.WriteString(d.GlobalStores[gi].String())
			gi++
		}
	}
	for ; si < len(d.Subtopologies); si++ {
		sb.WriteString("  ")
		sb.WriteString(d.Subtopologies[si].String())
	}
	for ; gi < len(d.GlobalStores); gi++ {
		sb.WriteString("  ")
		sb.WriteString(d.GlobalStores[gi].String())
	}
	return sb.String()
}

// String prints the sub-topology as Kafka does.
func (s SubtopologyDescription) String() string {
	var sb strings.Builder
	sb.WriteString("Sub-topology: " + strconv.Itoa(s.ID) + "\n")
	for _, n := range s.Nodes {
		sb.WriteString("    " + n.String() + "\n")
	}
	sb.WriteString("\n")
	return sb.String()
}

// String prints the global store as Kafka does.
func (g GlobalStoreDescription) String() string {
	return "Sub-topology: " + strconv.Itoa(g.ID) + " for global store (will not generate tasks)\n" +
		"    " + g.Source.String() + "\n" +
		"    " + g.Processor.String() + "\n"
}

// String prints one node as Kafka does.
func (n NodeDescription) String() string {
	switch n.Kind {
	case SourceKind:
		return "Source: " + n.Name + " (topics: " + javaList(n.Topics) + ")\n      --> " + nodeNames(n.Successors)
	case SinkKind:
		target := "(topic: " + n.Topic + ")"
		if n.Topic == "" {
			target = "(extractor class: " + n.Name + "-extractor)"
		}
		return "Sink: " + n.Name + " " + target + "\n      <-- " + nodeNames(n.Predecessors)
	default:
		return "Processor: " + n.Name + " (stores: " + javaList(n.Stores) + ")\n      --> " +
			nodeNames(n.Successors) + "\n      <-- " + nodeNames(n.Predecessors)
	}
}

func nodeNames(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func javaList(items []string) string { return "[" + strings.Join(items, ", ") + "]" }

// javaHashSetOrder returns items in the iteration order of a
// java.util.HashSet filled with them in order, which is the order Kafka
// prints topic and store sets in: by bucket of the spread String.hashCode
// in a table of at least 16 buckets, then by insertion.
func javaHashSetOrder(items []string) []string {
	if len(items) == 0 {
		return nil
	}
	items = slices.Compact(slices.Clone(items))
	buckets := 16
	for float64(len(items)) > 0.75*float64(buckets) {
		buckets *= 2
	}
	bucket := func(s string) int {
		var h int32
		for _, r := range s {
			if r >= 0x10000 {
				r1, r2 := utf16Pair(r)
				h = 31*h + int32(r1)
				h = 31*h + int32(r2)
				continue
			}
			h = 31*h + int32(r)
		}
		u := uint32(h)
		return int((u ^ (u >> 16)) & uint32(buckets-1))
	}
	out := slices.Clone(items)
	slices.SortStableFunc(out, func(a, b string) int { return cmp.Compare(bucket(a), bucket(b)) })
	return out
}

func utf16Pair(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}
