package server

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/runnel/runnel/broker/config"
	"github.com/runnel/runnel/broker/controller"
	"github.com/runnel/runnel/broker/metadata"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeConfigs v0–v4 for topics (resource type 2) and brokers (4),
// from the broker configuration in effect: the static one with the
// dynamic broker configs of the metadata laid over it.
//
// A topic lists every topic-level config with its effective value and
// source: DYNAMIC_TOPIC_CONFIG for the topic's overrides; when a broker
// setting supplies the value, DYNAMIC_BROKER_CONFIG or
// DYNAMIC_DEFAULT_BROKER_CONFIG if it was set dynamically (for this node
// or cluster-wide) and STATIC_BROKER_CONFIG if it comes from the
// properties (log.retention.hours for retention.ms, ...); DEFAULT_CONFIG
// otherwise. An unknown topic answers UNKNOWN_TOPIC_OR_PARTITION and an
// illegal name INVALID_TOPIC_EXCEPTION.
//
// A broker is named by its node ID: this node lists every broker config,
// the dynamic ones (DYNAMIC_BROKER_CONFIG, then the cluster-wide
// DYNAMIC_DEFAULT_BROKER_CONFIG) ahead of the static and default values
// in the synonyms, as Kafka orders them. The empty name is the cluster
// default resource and lists only the cluster-wide dynamic configs, each
// with its value as set and its synonyms from that level down. Any other
// name is INVALID_REQUEST ("Unexpected broker id"), as is every other
// resource type.
//
// ConfigNames null (or empty, as Kafka reads it) asks for every config;
// otherwise only the named ones are listed, and unknown names are skipped.
// Synonyms are listed when IncludeSynonyms is set (v1+), documentation
// when IncludeDocumentation is set (v3+), and v0's IsDefault is set for
// values from DEFAULT_CONFIG. Sensitive values are reported as null.

func (s *Server) handleDescribeConfigs(req *kmsg.DescribeConfigsRequest) *kmsg.DescribeConfigsResponse {
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	img := s.cfg.Controller.Image()
	bc := s.broker()
	for _, rr := range req.Resources {
		out := kmsg.NewDescribeConfigsResponseResource()
		out.ResourceType = rr.ResourceType
		out.ResourceName = rr.ResourceName
		entries, err := s.describeResource(img, bc, rr.ResourceType, rr.ResourceName)
		if err != nil {
			out.ErrorCode = errorCode(err)
			out.ErrorMessage = errorMessage(err)
			resp.Resources = append(resp.Resources, out)
			continue
		}
		var want map[string]bool
		if len(rr.ConfigNames) > 0 {
			want = make(map[string]bool, len(rr.ConfigNames))
			for _, n := range rr.ConfigNames {
				want[n] = true
			}
		}
		for _, e := range entries {
			if want != nil && !want[e.Name] {
				continue
			}
			out.Configs = append(out.Configs, describeEntry(e, req.IncludeSynonyms, req.IncludeDocumentation))
		}
		resp.Resources = append(resp.Resources, out)
	}
	return resp
}

// describeResource returns every config entry of one resource, as the
// broker configuration bc in effect reports them.
func (s *Server) describeResource(img *metadata.Image, bc *config.Broker, typ kmsg.ConfigResourceType, name string) ([]config.Entry, error) {
	switch typ {
	case kmsg.ConfigResourceTypeTopic:
		if err := controller.ValidateTopicName(name); err != nil {
			return nil, err
		}
		t := img.Topic(name)
		if t == nil {
			return nil, fmt.Errorf("%w: %s", controller.ErrUnknownTopic, name)
		}
		return config.DescribeTopic(bc, t.Configs), nil
	case kmsg.ConfigResourceTypeBroker:
		if name == "" {
			return bc.DescribeDefaults(), nil
		}
		if err := s.checkBrokerName(name, true); err != nil {
			return nil, err
		}
		return bc.Describe(), nil
	}
	return nil, fmt.Errorf("%w: unsupported resource type %d", errInvalidRequest, typ)
}

// checkBrokerName accepts this node's ID as a broker resource name;
// orEmpty says whether the message should mention the empty name (the
// cluster default), which the caller accepts separately.
func (s *Server) checkBrokerName(name string, orEmpty bool) error {
	id, err := strconv.ParseInt(name, 10, 32)
	if err != nil {
		return fmt.Errorf("%w: broker id must be an integer, but it is: %q", errInvalidRequest, name)
	}
	if int32(id) != s.cfg.NodeID {
		alt := ""
		if orEmpty {
			alt = " or empty string"
		}
		return fmt.Errorf("%w: unexpected broker id, expected %d%s, but received %s", errInvalidRequest, s.cfg.NodeID, alt, name)
	}
	return nil
}

// describeEntry converts one entry for the response.
func describeEntry(e config.Entry, synonyms, docs bool) kmsg.DescribeConfigsResponseResourceConfig {
	rc := kmsg.NewDescribeConfigsResponseResourceConfig()
	rc.Name = e.Name
	rc.Value = entryValue(e)
	rc.ReadOnly = e.ReadOnly
	rc.Source = kmsg.ConfigSource(e.Source)
	rc.IsDefault = e.Source == config.SourceDefault
	rc.IsSensitive = e.Sensitive
	rc.ConfigType = kmsg.ConfigType(e.Type)
	if synonyms {
		for _, syn := range e.Synonyms {
			rs := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
			rs.Name = syn.Name
			if !syn.Null && !e.Sensitive {
				v := syn.Value
				rs.Value = &v
			}
			rs.Source = kmsg.ConfigSource(syn.Source)
			rc.ConfigSynonyms = append(rc.ConfigSynonyms, rs)
		}
	}
	if docs && e.Doc != "" {
		d := e.Doc
		rc.Documentation = &d
	}
	return rc
}

// entryValue is an entry's value for a response: null when it has none
// or is sensitive.
func entryValue(e config.Entry) *string {
	if e.Null || e.Sensitive {
		return nil
	}
	v := e.Value
	return &v
}

func joinNames(names []string) string { return strings.Join(names, ", ") }
