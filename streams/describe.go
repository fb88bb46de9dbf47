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

// describeNodes lists a group's nodes, and every node's neighbours, in the
// order Kafka prints them. Kafka keeps them in TreeSets ordered by the size
// of the sub-tree rooted at each node (counting every path), largest first,
// then by name; but it fills the neighbour sets while the sizes are still
// growing, so their order depends on the order it links the nodes: the
// iteration order of a java.util.HashMap of the node names. describeNodes
// replays that linking, with the same hash order and red-black trees, so
// the output matches Kafka's byte for byte.
func (t *Topology) describeNodes(g *subtopology) []NodeDescription {
	var names []string
	for _, n := range g.nodes {
		names = append(names, n.name)
	}
	size := map[string]int{}
	for _, name := range names {
		size[name] = 1
	}
	cmpNodes := func(a, b string) int {
		if a == b {
			return 0
		}
		if size[a] != size[b] {
			return size[b] - size[a]
		}
		return strings.Compare(a, b)
	}
	preds := map[string]*rbTree{}
	succs := map[string]*rbTree{}
	for _, name := range names {
		preds[name] = &rbTree{cmp: cmpNodes}
		succs[name] = &rbTree{cmp: cmpNodes}
	}
	var grow func(name string, delta int)
	grow = func(name string, delta int) {
		size[name] += delta
		for _, p := range preds[name].keys() {
			grow(p, delta)
		}
	}
	for _, name := range javaHashOrder(names) {
		for _, p := range t.byName[name].parents {
			preds[name].insert(p)
			succs[p].insert(name)
			grow(p, size[name])
		}
	}
	order := slices.Clone(names)
	slices.SortFunc(order, cmpNodes)
	var out []NodeDescription
	for _, name := range order {
		n := t.byName[name]
		nd := NodeDescription{
			Name:         n.name,
			Predecessors: preds[name].keys(),
			Successors:   succs[name].keys(),
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

// javaHashSetOrder returns items, without duplicates, in the iteration
// order of a java.util.HashSet filled with them in order: the order Kafka
// prints topic and store sets in.
func javaHashSetOrder(items []string) []string {
	if len(items) == 0 {
		return nil
	}
	var uniq []string
	for _, it := range items {
		if !slices.Contains(uniq, it) {
			uniq = append(uniq, it)
		}
	}
	return javaHashOrder(uniq)
}

// javaHashOrder returns distinct keys in the iteration order of a
// java.util.HashMap (or HashSet) they were inserted into in order: by
// bucket of the spread String.hashCode in a table of at least 16 buckets
// holding them at a load factor of 0.75, then by insertion.
func javaHashOrder(keys []string) []string {
	buckets := 16
	for float64(len(keys)) > 0.75*float64(buckets) {
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
	out := slices.Clone(keys)
	slices.SortStableFunc(out, func(a, b string) int { return cmp.Compare(bucket(a), bucket(b)) })
	return out
}

func utf16Pair(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

// rbTree is a set of strings kept in a red-black tree exactly as
// java.util.TreeMap inserts (CLRS insertion with TreeMap's fix-up), so a
// comparator whose results change between insertions leaves the elements
// in the same order as in Java.
type rbTree struct {
	root *rbNode
	cmp  func(a, b string) int
}

type rbNode struct {
	key                 string
	left, right, parent *rbNode
	red                 bool
}

func (t *rbTree) insert(k string) {
	if t.root == nil {
		t.root = &rbNode{key: k}
		return
	}
	var parent *rbNode
	c := 0
	for x := t.root; x != nil; {
		parent = x
		c = t.cmp(k, x.key)
		switch {
		case c < 0:
			x = x.left
		case c > 0:
			x = x.right
		default:
			return
		}
	}
	e := &rbNode{key: k, parent: parent}
	if c < 0 {
		parent.left = e
	} else {
		parent.right = e
	}
	t.fix(e)
}

func parentOf(n *rbNode) *rbNode {
	if n == nil {
		return nil
	}
	return n.parent
}

func leftOf(n *rbNode) *rbNode {
	if n == nil {
		return nil
	}
	return n.left
}

func rightOf(n *rbNode) *rbNode {
	if n == nil {
		return nil
	}
	return n.right
}

func isRed(n *rbNode) bool { return n != nil && n.red }

func setRed(n *rbNode, red bool) {
	if n != nil {
		n.red = red
	}
}

func (t *rbTree) fix(x *rbNode) {
	x.red = true
	for x != nil && x != t.root && x.parent.red {
		if parentOf(x) == leftOf(parentOf(parentOf(x))) {
			y := rightOf(parentOf(parentOf(x)))
			if isRed(y) {
				setRed(parentOf(x), false)
				setRed(y, false)
				setRed(parentOf(parentOf(x)), true)
				x = parentOf(parentOf(x))
			} else {
				if x == rightOf(parentOf(x)) {
					x = parentOf(x)
					t.rotateLeft(x)
				}
				setRed(parentOf(x), false)
				setRed(parentOf(parentOf(x)), true)
				t.rotateRight(parentOf(parentOf(x)))
			}
		} else {
			y := leftOf(parentOf(parentOf(x)))
			if isRed(y) {
				setRed(parentOf(x), false)
				setRed(y, false)
				setRed(parentOf(parentOf(x)), true)
				x = parentOf(parentOf(x))
			} else {
				if x == leftOf(parentOf(x)) {
					x = parentOf(x)
					t.rotateRight(x)
				}
				setRed(parentOf(x), false)
				setRed(parentOf(parentOf(x)), true)
				t.rotateLeft(parentOf(parentOf(x)))
			}
		}
	}
	t.root.red = false
}

func (t *rbTree) rotateLeft(p *rbNode) {
	if p == nil {
		return
	}
	r := p.right
	p.right = r.left
	if r.left != nil {
		r.left.parent = p
	}
	r.parent = p.parent
	switch {
	case p.parent == nil:
		t.root = r
	case p.parent.left == p:
		p.parent.left = r
	default:
		p.parent.right = r
	}
	r.left = p
	p.parent = r
}

func (t *rbTree) rotateRight(p *rbNode) {
	if p == nil {
		return
	}
	l := p.left
	p.left = l.right
	if l.right != nil {
		l.right.parent = p
	}
	l.parent = p.parent
	switch {
	case p.parent == nil:
		t.root = l
	case p.parent.right == p:
		p.parent.right = l
	default:
		p.parent.left = l
	}
	l.right = p
	p.parent = l
}

// keys returns the elements in tree (in-order) order.
func (t *rbTree) keys() []string {
	var out []string
	var walk func(n *rbNode)
	walk = func(n *rbNode) {
		if n == nil {
			return
		}
		walk(n.left)
		out = append(out, n.key)
		walk(n.right)
	}
	walk(t.root)
	return out
}
