package broker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/runnel/runnel/broker/controller"
	"github.com/runnel/runnel/broker/group"
	"github.com/runnel/runnel/broker/log"
	"github.com/runnel/runnel/broker/record"
	"github.com/runnel/runnel/broker/replica"
	"github.com/runnel/runnel/broker/txn"
)

// markerWriter writes the transaction coordinator's markers
// (WriteTxnMarkers) to the partitions this node leads: a COMMIT or ABORT
// control batch appended like any coordinator write and acknowledged once
// replicated. A marker reaching a __consumer_offsets partition also ends
// the transaction's pending offsets in the group coordinator.
type markerWriter struct {
	replicas *replica.Manager
	groups   *group.Coordinator
}

var _ txn.MarkerWriter = (*markerWriter)(nil)

// WriteMarkers appends one marker per partition and reports the
// partitions that failed.
func (w *markerWriter) WriteMarkers(ctx context.Context, producerID int64, epoch int16, coordinatorEpoch int32, commit bool, partitions []txn.TopicPartition) error {
	errs := txn.MarkerErrors{}
	for _, tp := range partitions {
		if err := w.writeMarker(ctx, producerID, epoch, coordinatorEpoch, commit, tp); err != nil {
			errs[tp] = err
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func (w *markerWriter) writeMarker(ctx context.Context, producerID int64, epoch int16, coordinatorEpoch int32, commit bool, tp txn.TopicPartition) error {
	p, err := w.replicas.Get(tp.Topic, tp.Partition)
	if errors.Is(err, replica.ErrUnknownTopicOrPartition) {
		return fmt.Errorf("%w: %s: %w", txn.ErrPartitionDeleted, tp, err)
	}
	if err != nil {
		return err
	}
	typ := record.ControlAbort
	if commit {
		typ = record.ControlCommit
	}
	batch := record.ControlBatch(producerID, epoch, coordinatorEpoch, typ, time.Now().UnixMilli())
	if _, err := p.AppendInternal(ctx, batch); err != nil {
		if errors.Is(err, log.ErrCoordinatorFenced) {
			return fmt.Errorf("%w: %s: %w", txn.ErrCoordinatorFenced, tp, err)
		}
		return err
	}
	if tp.Topic == controller.ConsumerOffsetsTopic && w.groups != nil {
		return w.groups.CompleteTxn(ctx, tp.Partition, producerID, commit)
	}
	return nil
}
