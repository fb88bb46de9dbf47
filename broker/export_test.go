package broker

import (
	"context"

	"github.com/runnel/runnel/broker/log"
)

// PartitionLog returns the log of a partition this node hosts, so that
// tests can check what reached it.
func (b *Broker) PartitionLog(topic string, partition int32) (*log.Log, error) {
	p, err := b.replicas.Get(topic, partition)
	if err != nil {
		return nil, err
	}
	return p.Log(), nil
}

// CleanNow runs one pass of the log cleaner over every due compacted log.
func (b *Broker) CleanNow(ctx context.Context) (int, error) { return b.logs.CleanNow(ctx) }
