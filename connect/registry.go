package connect

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/runnel/runnel/connect/connector"
)

// Registry holds the plugins a worker can run: connectors, converters,
// transformations and predicates, each registered under its Java class
// name (the name Kafka's configurations use, e.g.
// org.apache.kafka.connect.file.FileStreamSourceConnector). A plugin is
// also found by Kafka's aliases: its simple class name, and that name
// without the type's suffix (FileStreamSource; JsonConverter → Json). An
// alias two plugins share is ambiguous and finds neither, as in Kafka.
//
// A Registry is an explicit value filled by the program (cmd/runnel); there
// is no global registry. It is safe for concurrent use.
type Registry struct {
	mu      sync.RWMutex
	plugins []*plugin          // in registration order
	byClass map[string]*plugin // full class name
	aliases map[string][]*plugin
}

// plugin is one registered plugin.
type plugin struct {
	class   string
	kind    string // PluginSource, PluginSink, PluginConverter, …
	version string
	newConn func() connector.Connector
	newConv func() connector.Converter
	newTf   func() connector.Transformation
	newPred func() connector.Predicate
}

// NewRegistry returns an empty Registry.
func NewRegistry() *Registry {
	return &Registry{byClass: make(map[string]*plugin), aliases: make(map[string][]*plugin)}
}

// RegisterConnector registers a source or sink connector under its Java
// class name and optional extra aliases. newConnector is called for every
// connector instance (and once here to learn the type and version); it must
// return a connector.SourceConnector or connector.SinkConnector.
func (r *Registry) RegisterConnector(class string, newConnector func() connector.Connector, aliases ...string) error {
	c := newConnector()
	p := &plugin{class: class, newConn: newConnector, version: c.Version()}
	switch c.(type) {
	case connector.SourceConnector:
		p.kind = PluginSource
	case connector.SinkConnector:
		p.kind = PluginSink
	default:
		return fmt.Errorf("connect: register %s: %T is neither a source nor a sink connector", class, c)
	}
	return r.add(p, "Connector", aliases)
}

// RegisterConverter registers a converter (key.converter, value.converter).
func (r *Registry) RegisterConverter(class string, newConverter func() connector.Converter, aliases ...string) error {
	return r.add(&plugin{class: class, kind: PluginConverter, newConv: newConverter}, "Converter", aliases)
}

// RegisterTransformation registers a single message transform.
func (r *Registry) RegisterTransformation(class string, newTransformation func() connector.Transformation, aliases ...string) error {
	return r.add(&plugin{class: class, kind: PluginTransformation, newTf: newTransformation}, "Transformation", aliases)
}

// RegisterPredicate registers a predicate for conditional transforms.
func (r *Registry) RegisterPredicate(class string, newPredicate func() connector.Predicate, aliases ...string) error {
	return r.add(&plugin{class: class, kind: PluginPredicate, newPred: newPredicate}, "Predicate", aliases)
}

func (r *Registry) add(p *plugin, suffix string, extra []string) error {
	if p.version == "" {
		var inst any
		switch {
		case p.newConv != nil:
			inst = p.newConv()
		case p.newTf != nil:
			inst = p.newTf()
		case p.newPred != nil:
			inst = p.newPred()
		}
		if v, ok := inst.(interface{ Version() string }); ok {
			p.version = v.Version()
		}
	}
	if p.class == "" {
		return fmt.Errorf("connect: register: empty class name")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.byClass[p.class]; ok {
		return fmt.Errorf("connect: register %s: already registered", p.class)
	}
	r.plugins = append(r.plugins, p)
	r.byClass[p.class] = p
	for _, a := range append(Aliases(p.class, suffix), extra...) {
		if a == p.class || slices.Contains(r.aliases[a], p) {
			continue
		}
		r.aliases[a] = append(r.aliases[a], p)
	}
	return nil
}

// Aliases returns Kafka's aliases of a plugin class: the simple class name
// (after the last '.' and, for a nested class, after the last '$'), and the
// simple name without suffix when it ends with it (FileStreamSourceConnector
// → FileStreamSource).
func Aliases(class, suffix string) []string {
	simple := class[strings.LastIndexByte(class, '.')+1:]
	simple = simple[strings.LastIndexByte(simple, '$')+1:]
	out := []string{simple}
	if i := strings.LastIndex(simple, suffix); i > 0 {
		out = append(out, simple[:i])
	}
	return out
}

// lookup finds a plugin of one of kinds by class name or unambiguous alias.
func (r *Registry) lookup(name string, kinds ...string) (*plugin, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	name = strings.TrimSpace(name)
	if p, ok := r.byClass[name]; ok && slices.Contains(kinds, p.kind) {
		return p, true
	}
	if ps := r.aliases[name]; len(ps) == 1 && slices.Contains(kinds, ps[0].kind) {
		return ps[0], true
	}
	return nil, false
}

// Class returns the full class name a name or alias refers to, and the
// plugin's type (PluginSource, PluginSink, PluginConverter, …).
func (r *Registry) Class(name string) (class, kind string, ok bool) {
	p, ok := r.lookup(name, PluginSource, PluginSink, PluginConverter, PluginTransformation, PluginPredicate)
	if !ok {
		return "", "", false
	}
	return p.class, p.kind, true
}

// NewConnector returns a new instance of the connector a class name or
// alias names, and its full class name.
func (r *Registry) NewConnector(name string) (connector.Connector, string, error) {
	p, ok := r.lookup(name, PluginSource, PluginSink)
	if !ok {
		return nil, "", r.notFound("connector", name, PluginSource, PluginSink)
	}
	return p.newConn(), p.class, nil
}

// NewConverter returns a new, unconfigured converter.
func (r *Registry) NewConverter(name string) (connector.Converter, error) {
	p, ok := r.lookup(name, PluginConverter)
	if !ok {
		return nil, r.notFound("converter", name, PluginConverter)
	}
	return p.newConv(), nil
}

// NewTransformation returns a new, unconfigured transformation.
func (r *Registry) NewTransformation(name string) (connector.Transformation, error) {
	p, ok := r.lookup(name, PluginTransformation)
	if !ok {
		return nil, r.notFound("transformation", name, PluginTransformation)
	}
	return p.newTf(), nil
}

// NewPredicate returns a new, unconfigured predicate.
func (r *Registry) NewPredicate(name string) (connector.Predicate, error) {
	p, ok := r.lookup(name, PluginPredicate)
	if !ok {
		return nil, r.notFound("predicate", name, PluginPredicate)
	}
	return p.newPred(), nil
}

// notFound words a failed lookup as Kafka does, listing what is available.
func (r *Registry) notFound(what, name string, kinds ...string) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var avail []string
	for _, p := range r.plugins {
		if slices.Contains(kinds, p.kind) {
			avail = append(avail, p.class)
		}
	}
	return badRequestf("Failed to find any class that implements %s and which name matches %s, available %ss are: %s",
		what, name, what, strings.Join(avail, ", "))
}

// Plugins lists the registered plugins as GET /connector-plugins prints
// them: sinks, then sources, transformations, predicates and converters,
// each sorted by class name; connectorsOnly keeps the connectors.
func (r *Registry) Plugins(connectorsOnly bool) []PluginInfo {
	r.mu.RLock()
	defer r.mu.RUnlock()
	order := []string{PluginSink, PluginSource, PluginTransformation, PluginPredicate, PluginConverter, PluginHeaderConverter}
	if connectorsOnly {
		order = order[:2]
	}
	out := []PluginInfo{}
	for _, kind := range order {
		var group []PluginInfo
		for _, p := range r.plugins {
			if p.kind == kind {
				group = append(group, PluginInfo{Class: p.class, Type: kind, Version: p.version})
			}
		}
		slices.SortFunc(group, func(a, b PluginInfo) int { return strings.Compare(a.Class, b.Class) })
		out = append(out, group...)
	}
	return out
}

// kindOf returns PluginSource or PluginSink for a connector instance.
func kindOf(c connector.Connector) string {
	if _, ok := c.(connector.SinkConnector); ok {
		return PluginSink
	}
	return PluginSource
}

// ConnectorType returns the type of the connector a configuration names
// ("unknown" when the class cannot be found).
func (r *Registry) ConnectorType(props map[string]string) ConnectorType {
	_, kind, ok := r.Class(props["connector.class"])
	switch {
	case ok && kind == PluginSource:
		return TypeSource
	case ok && kind == PluginSink:
		return TypeSink
	}
	return TypeUnknown
}
