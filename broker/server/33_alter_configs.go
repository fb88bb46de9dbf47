package server

import (
	"fmt"
	"slices"
	"strings"

	"github.com/runnel/runnel/broker/config"
	"github.com/runnel/runnel/broker/controller"
	"github.com/runnel/runnel/broker/metadata"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// AlterConfigs v0–v2, the legacy API with replace semantics: the configs
// given become the resource's complete set of dynamic configs, and every
// override not named is removed. Topics (resource type 2) and this broker
// (type 4, named by its node ID; the legacy API has no cluster default)
// are supported; other types answer INVALID_REQUEST.
//
// The checks follow Kafka's order. First the request's shape, each failing
// only its resource with INVALID_REQUEST: a resource named twice ("Each
// resource must appear at most once."), another broker's ID, a null value,
// a key given twice. Then the resource: an unknown topic is
// UNKNOWN_TOPIC_OR_PARTITION. Then the configs: a key that is not a
// config of the resource type, or a bad value, is INVALID_CONFIG with a
// message naming the key. ValidateOnly runs every check and changes
// nothing. Changes are committed by the controller; topic changes reach
// the partitions' logs before the response is sent.

func (s *Server) handleAlterConfigs(req *kmsg.AlterConfigsRequest) *kmsg.AlterConfigsResponse {
	resp := req.ResponseKind().(*kmsg.AlterConfigsResponse)
	dups := duplicateResources(req.Resources, func(r kmsg.AlterConfigsRequestResource) resourceKey {
		return resourceKey{r.ResourceType, r.ResourceName}
	})
	img := s.cfg.Controller.Image()
	for _, rr := range req.Resources {
		out := kmsg.NewAlterConfigsResponseResource()
		out.ResourceType = rr.ResourceType
		out.ResourceName = rr.ResourceName
		ops := make([]controller.ConfigOp, 0, len(rr.Configs))
		for _, c := range rr.Configs {
			ops = append(ops, controller.ConfigOp{Name: c.Name, Op: controller.OpSet, Value: c.Value})
		}
		var err error
		if dups[resourceKey{rr.ResourceType, rr.ResourceName}] {
			err = errDuplicateResource
		} else {
			err = s.alterConfigs(img, rr.ResourceType, rr.ResourceName, ops, true, req.ValidateOnly)
		}
		if err != nil {
			out.ErrorCode = errorCode(err)
			out.ErrorMessage = errorMessage(err)
		}
		resp.Resources = append(resp.Resources, out)
	}
	return resp
}

var errDuplicateResource = fmt.Errorf("%w: Each resource must appear at most once.", errInvalidRequest)

// resourceKey identifies a config resource in a request.
type resourceKey struct {
	typ  kmsg.ConfigResourceType
	name string
}

// duplicateResources returns the resources named more than once.
func duplicateResources[R any](rs []R, key func(R) resourceKey) map[resourceKey]bool {
	seen := map[resourceKey]int{}
	for _, r := range rs {
		seen[key(r)]++
	}
	dups := map[resourceKey]bool{}
	for k, n := range seen {
		if n > 1 {
			dups[k] = true
		}
	}
	return dups
}

// alterConfigs checks and applies one resource's changes. replace selects
// the legacy AlterConfigs semantics; otherwise ops are incremental.
func (s *Server) alterConfigs(img *metadata.Image, typ kmsg.ConfigResourceType, name string, ops []controller.ConfigOp, replace, validateOnly bool) error {
	// The request's shape.
	switch typ {
	case kmsg.ConfigResourceTypeTopic:
	case kmsg.ConfigResourceTypeBroker:
		// The cluster default ("") exists only for incremental changes.
		if name != "" || replace {
			if err := s.checkBrokerName(name, !replace); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("%w: unknown resource type %d", errInvalidRequest, typ)
	}
	var nulls []string
	seen := map[string]bool{}
	for _, op := range ops {
		if op.Op < controller.OpSet || op.Op > controller.OpSubtract {
			return fmt.Errorf("%w: unknown operation type %d for %s", errInvalidRequest, op.Op, op.Name)
		}
		if op.Value == nil && op.Op != controller.OpDelete {
			nulls = append(nulls, op.Name)
		}
		if seen[op.Name] {
			return fmt.Errorf("%w: Error due to duplicate config keys (%s)", errInvalidRequest, op.Name)
		}
		seen[op.Name] = true
	}
	if len(nulls) > 0 {
		return fmt.Errorf("%w: Null value not supported for : %s", errInvalidRequest, joinNames(nulls))
	}

	// The resource, then its configs.
	var (
		defs    []config.Entry
		current map[string]string
	)
	if typ == kmsg.ConfigResourceTypeTopic {
		t := img.Topic(name)
		if t == nil {
			return fmt.Errorf("%w: %s", controller.ErrUnknownTopic, name)
		}
		defs, current = config.DescribeTopic(s.broker(), nil), t.Configs
	} else {
		defs, current = s.broker().Describe(), img.BrokerConfigs[name]
	}
	if err := checkConfigOps(typ, defs, ops); err != nil {
		return err
	}
	if !replace {
		ops = appendToDefaults(ops, current, defs)
	}
	if typ == kmsg.ConfigResourceTypeTopic {
		// Values are checked here as well as by the controller, so that a
		// bad value is refused naming its key however the controller was
		// configured.
		set := map[string]string{}
		for _, op := range ops {
			if op.Op == controller.OpSet {
				set[op.Name] = *op.Value
			}
		}
		if err := config.ValidateTopic(set); err != nil {
			return fmt.Errorf("%w: %w", controller.ErrInvalidConfig, err)
		}
		return s.cfg.Controller.AlterTopicConfigs(name, ops, replace, validateOnly)
	}
	return s.cfg.Controller.AlterBrokerConfigs(name, ops, replace, validateOnly)
}

// checkConfigOps refuses keys that are not configs of the resource type
// and list operations on configs that are not lists.
func checkConfigOps(typ kmsg.ConfigResourceType, defs []config.Entry, ops []controller.ConfigOp) error {
	kind := "topic"
	if typ == kmsg.ConfigResourceTypeBroker {
		kind = "broker"
	}
	for _, op := range ops {
		i := slices.IndexFunc(defs, func(e config.Entry) bool { return e.Name == op.Name })
		if i < 0 {
			return fmt.Errorf("%w: %q is not a %s config", config.ErrUnknown, op.Name, kind)
		}
		if (op.Op == controller.OpAppend || op.Op == controller.OpSubtract) && defs[i].Type != config.TypeList {
			verb := "APPEND to"
			if op.Op == controller.OpSubtract {
				verb = "SUBTRACT from"
			}
			return fmt.Errorf("%w: can't %s key %s because its type is not LIST", controller.ErrInvalidConfig, verb, op.Name)
		}
	}
	return nil
}

// appendToDefaults rewrites APPEND and SUBTRACT operations on configs that
// have no dynamic value yet into SETs of the resulting list: Kafka applies
// them to the config's default (APPEND compact to cleanup.policy gives
// "delete,compact"), while the controller knows only the stored values.
// The image may be overtaken by another change before the controller
// commits; the window is one request's length, and the other change was
// concurrent with this one anyway.
func appendToDefaults(ops []controller.ConfigOp, current map[string]string, defs []config.Entry) []controller.ConfigOp {
	out := slices.Clone(ops)
	for i, op := range out {
		if op.Op != controller.OpAppend && op.Op != controller.OpSubtract {
			continue
		}
		if _, ok := current[op.Name]; ok {
			continue
		}
		d := slices.IndexFunc(defs, func(e config.Entry) bool { return e.Name == op.Name })
		if d < 0 {
			continue
		}
		base, ok := defaultValue(defs[d])
		if !ok || base == "" {
			continue
		}
		items := listItems(base)
		for _, v := range listItems(*op.Value) {
			has := slices.Contains(items, v)
			switch {
			case op.Op == controller.OpAppend && !has:
				items = append(items, v)
			case op.Op == controller.OpSubtract && has:
				items = slices.DeleteFunc(items, func(s string) bool { return s == v })
			}
		}
		v := strings.Join(items, ",")
		out[i] = controller.ConfigOp{Name: op.Name, Op: controller.OpSet, Value: &v}
	}
	return out
}

// defaultValue is a config's DEFAULT_CONFIG value, the last of its
// synonyms.
func defaultValue(e config.Entry) (string, bool) {
	for _, syn := range slices.Backward(e.Synonyms) {
		if syn.Source == config.SourceDefault && !syn.Null {
			return syn.Value, true
		}
	}
	if e.Source == config.SourceDefault && !e.Null {
		return e.Value, true
	}
	return "", false
}

// listItems splits a LIST config value into its items.
func listItems(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
