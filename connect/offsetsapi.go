package connect

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// KIP-875 offsets of a connector: a source connector's from the
// OffsetStore, a sink connector's from its consumer group, as
// {"kafka_topic","kafka_partition"} → {"kafka_offset"}.

const (
	sinkTopicKey     = "kafka_topic"
	sinkPartitionKey = "kafka_partition"
	sinkOffsetKey    = "kafka_offset"
)

// SinkGroup is the consumer group of a sink connector: connect-<name>, or
// its consumer.override.group.id.
func SinkGroup(name string, props map[string]string) string {
	if g := props["consumer.override.group.id"]; g != "" {
		return g
	}
	return "connect-" + name
}

// ConnectorOffsets returns a connector's current offsets.
func (w *Worker) ConnectorOffsets(ctx context.Context, name string, props map[string]string) (ConnectorOffsets, error) {
	if w.reg.ConnectorType(props) == TypeSink {
		adm := kadm.NewClient(w.admin)
		resp, err := adm.FetchOffsets(ctx, SinkGroup(name, props))
		if err != nil {
			if errors.Is(err, kerr.GroupIDNotFound) {
				return ConnectorOffsets{Offsets: []ConnectorOffset{}}, nil
			}
			return ConnectorOffsets{}, fmt.Errorf("Failed to retrieve consumer group offsets for sink connector %s: %w", name, err)
		}
		out := ConnectorOffsets{Offsets: []ConnectorOffset{}}
		resp.Each(func(o kadm.OffsetResponse) {
			if o.Err != nil || o.At < 0 {
				return
			}
			out.Offsets = append(out.Offsets, ConnectorOffset{
				Partition: map[string]any{sinkTopicKey: o.Topic, sinkPartitionKey: int64(o.Partition)},
				Offset:    map[string]any{sinkOffsetKey: o.At},
			})
		})
		return out, nil
	}
	offs, err := w.offs.Offsets(ctx, name)
	if err != nil {
		return ConnectorOffsets{}, err
	}
	if offs == nil {
		offs = []ConnectorOffset{}
	}
	return ConnectorOffsets{Offsets: offs}, nil
}

// ModifyConnectorOffsets alters (offsets non-nil) or resets (nil) a
// stopped connector's offsets and returns Kafka's confirmation message.
// The herder checks that the connector is stopped.
func (w *Worker) ModifyConnectorOffsets(ctx context.Context, name string, props map[string]string, offsets []ConnectorOffset) (string, error) {
	verb := "altered"
	if offsets == nil {
		verb = "reset"
	}
	if w.reg.ConnectorType(props) == TypeSink {
		if err := w.modifySinkOffsets(ctx, name, props, offsets); err != nil {
			return "", err
		}
		return "The offsets for this connector have been " + verb + " successfully", nil
	}
	if offsets == nil {
		cur, err := w.offs.Offsets(ctx, name)
		if err != nil {
			return "", err
		}
		for _, o := range cur {
			offsets = append(offsets, ConnectorOffset{Partition: o.Partition})
		}
	} else {
		for _, o := range offsets {
			if o.Partition == nil {
				return "", badRequestf("Source partitions may not be null")
			}
		}
	}
	if len(offsets) > 0 {
		if err := w.offs.Write(ctx, name, offsets); err != nil {
			return "", fmt.Errorf("Failed to write offsets for source connector %s: %w", name, err)
		}
	}
	return "The Connect framework-managed offsets for this connector have been " + verb +
		" successfully. However, if this connector manages offsets externally, they will need to be manually " + verb +
		" in the system that the connector uses.", nil
}

func (w *Worker) modifySinkOffsets(ctx context.Context, name string, props map[string]string, offsets []ConnectorOffset) error {
	adm := kadm.NewClient(w.admin)
	group := SinkGroup(name, props)
	if offsets == nil {
		resp, err := adm.DeleteGroup(ctx, group)
		if err == nil {
			err = resp.Err
		}
		if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
			return fmt.Errorf("Failed to reset offsets for sink connector %s: %w", name, err)
		}
		return nil
	}
	alter := kadm.Offsets{}
	del := kadm.TopicsSet{}
	for _, o := range offsets {
		topic, part, off, err := parseSinkOffset(o)
		if err != nil {
			return err
		}
		if off == nil {
			del.Add(topic, part)
			continue
		}
		alter.Add(kadm.Offset{Topic: topic, Partition: part, At: *off, LeaderEpoch: -1})
	}
	if len(alter) > 0 {
		resp, err := adm.CommitOffsets(ctx, group, alter)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			return fmt.Errorf("Failed to alter consumer group offsets for connector %s: %w", name, err)
		}
	}
	if len(del) > 0 {
		resp, err := adm.DeleteOffsets(ctx, group, del)
		if err == nil {
			err = resp.Error()
		}
		if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
			return fmt.Errorf("Failed to delete consumer group offsets for connector %s: %w", name, err)
		}
	}
	return nil
}

// parseSinkOffset checks one sink offset entry as Kafka does; "10" and 10
// are both accepted.
func parseSinkOffset(o ConnectorOffset) (string, int32, *int64, error) {
	p := o.Partition
	if p == nil {
		return "", 0, nil, badRequestf("The partition for a sink connector offset cannot be null or missing")
	}
	t, okT := p[sinkTopicKey]
	pv, okP := p[sinkPartitionKey]
	if !okT || !okP {
		return "", 0, nil, badRequestf("The partition for a sink connector offset must contain the keys '%s' and '%s'", sinkTopicKey, sinkPartitionKey)
	}
	if t == nil {
		return "", 0, nil, badRequestf("Kafka topic names must be valid strings and may not be null")
	}
	if pv == nil {
		return "", 0, nil, badRequestf("Kafka partitions must be valid numbers and may not be null")
	}
	part, err := strconv.ParseInt(fmt.Sprint(NormalizeJSON(pv)), 10, 32)
	if err != nil {
		return "", 0, nil, badRequestf("Failed to parse the following Kafka partition value in the provided offsets: '%v'. Partition values for sink connectors need to be integers.", pv)
	}
	if o.Offset == nil {
		return fmt.Sprint(t), int32(part), nil, nil
	}
	ov, ok := o.Offset[sinkOffsetKey]
	if !ok {
		return "", 0, nil, badRequestf("The offset for a sink connector should either be null or contain the key '%s'", sinkOffsetKey)
	}
	off, err := strconv.ParseInt(fmt.Sprint(NormalizeJSON(ov)), 10, 64)
	if err != nil {
		return "", 0, nil, badRequestf("Failed to parse the following Kafka offset value in the provided offsets: '%v'. Offset values for sink connectors need to be integers.", ov)
	}
	return fmt.Sprint(t), int32(part), &off, nil
}
