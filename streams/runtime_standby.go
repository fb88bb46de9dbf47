package streams

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/runnel/runnel/state"
	"github.com/twmb/franz-go/pkg/kgo"
)

// A standbyTask is a copy of a stateful task's stores on an instance that
// does not run the task (Kafka Streams' standby task, num.standby.replicas):
// its thread keeps the stores current from the task's changelog partitions
// and checkpoints them, so that when the task moves to this instance it
// restores only what the standby had not applied yet. A standby never
// processes input, produces or writes to a changelog.
//
// Its stores live exactly where the active task's would
// (state.dir/<application.id>/<task>/<store>), opened by the same Task
// code, and its .checkpoint is the one the active task reads when it
// opens: the existing restore path then starts where the standby stopped.
type standbyTask struct {
	id   TaskID
	task *Task // opened for its stores only
	dir  string
	// store maps each logged store's changelog partition to the store.
	store map[topicPart]string
	// persist tells which stores are kept on disk (and so checkpointed).
	persist map[string]bool
	// pos is the offset of the last changelog record (control records
	// included) applied per changelog partition, -1 before the first.
	pos map[topicPart]int64
	// dirty reports records applied since the last checkpoint.
	dirty bool
}

// standbyCollector refuses output: a standby task never processes input,
// so nothing should ever reach it.
type standbyCollector struct{ id TaskID }

func (c standbyCollector) Send(r OutputRecord) error {
	return fmt.Errorf("streams: standby task %s cannot send to %s", c.id, r.Topic)
}

// standbysAssigned keeps the standby tasks of the member's new assignment
// until onAssigned takes them (the sync answer arrives first).
func (t *streamThread) standbysAssigned(info assignmentInfo) {
	ids := make([]TaskID, 0, len(info.Standby))
	for _, s := range info.Standby {
		if id, err := parseTaskID(s); err == nil {
			ids = append(ids, id)
		}
	}
	t.nextStandby.Store(&ids)
}

// takeStandbyAssignment, called by onAssigned under mu with the active
// tasks of the new assignment, records the standby tasks wanted and closes
// those no longer wanted (including those about to become active here,
// whose stores the active task must open), writing their checkpoints.
func (t *streamThread) takeStandbyAssignment(active map[TaskID]bool) {
	want := map[TaskID]bool{}
	if next := t.nextStandby.Load(); next != nil {
		for _, id := range *next {
			if !active[id] {
				want[id] = true
			}
		}
	}
	for id, sb := range t.standbys {
		if !want[id] {
			t.closeStandby(sb)
		}
	}
	t.wantStandby = want
	t.publishStandbys()
}

// setUpStandbys opens the wanted standby tasks not open yet and, when the
// set changed, points the standby consumer at their changelog partitions.
// A standby whose stores another thread of this instance still holds is
// tried again on the next loop; one that cannot be opened otherwise is
// logged and dropped until the next assignment: a standby only saves
// restore time, so it never stops the thread.
func (t *streamThread) setUpStandbys() error {
	for id := range t.wantStandby {
		if _, ok := t.standbys[id]; ok {
			continue
		}
		if t.tasks[id] != nil {
			delete(t.wantStandby, id)
			continue
		}
		if t.heldByOtherThread(id) {
			// Opening would wipe a directory another thread still uses
			// when it has no checkpoint (an active task under
			// exactly_once_v2); wait for it to let go.
			continue
		}
		sb, err := t.openStandby(id)
		if errors.Is(err, syscall.EWOULDBLOCK) {
			t.log.Debug("standby state held by another thread; waiting", "task", id.String())
			continue
		}
		if err != nil {
			t.log.Warn("cannot open standby task", "task", id.String(), "err", err)
			delete(t.wantStandby, id)
			continue
		}
		t.standbys[id] = sb
		t.standbyChanged = true
		t.app.metrics.standbyTasks.Inc()
	}
	t.publishStandbys()
	if !t.standbyChanged {
		return nil
	}
	t.standbyChanged = false
	if t.standbyCl != nil {
		t.standbyCl.Close()
		t.standbyCl = nil
	}
	start := map[string]map[int32]kgo.Offset{}
	for _, sb := range t.standbys {
		for tp := range sb.store {
			if start[tp.topic] == nil {
				start[tp.topic] = map[int32]kgo.Offset{}
			}
			off := kgo.NewOffset().AtStart()
			if p := sb.pos[tp]; p >= 0 {
				off = kgo.NewOffset().At(p + 1)
			}
			start[tp.topic][tp.partition] = off
		}
	}
	if len(start) == 0 {
		return nil
	}
	cl, err := t.changelogConsumer("standby", start)
	if err != nil {
		return err
	}
	t.standbyCl = cl
	return nil
}

// heldByOtherThread reports whether another thread of this instance still
// holds the task, active or standby: after a rebalance it closes the task
// when it handles its own assignment, which may come after this thread's.
func (t *streamThread) heldByOtherThread(id TaskID) bool {
	s := id.String()
	for _, o := range t.app.threadList() {
		if o != t && (slices.Contains(*o.held.Load(), s) || slices.Contains(*o.heldStandby.Load(), s)) {
			return true
		}
	}
	return false
}

// openStandby opens a standby task's stores, keeping the local state from
// its checkpoint as an active task would (or wiping it when the checkpoint
// does not cover every persistent store). Unlike an active task's under
// exactly_once_v2, the checkpoint stays: a standby applies only committed
// changelog records, so its state on disk is never ahead of a checkpoint
// in a way that matters.
func (t *streamThread) openStandby(id TaskID) (*standbyTask, error) {
	a := t.app
	dir, changelog, persist, ckpt, err := t.loadTaskState(id)
	if err != nil {
		return nil, err
	}
	task, err := a.topo.NewTask(TaskConfig{
		ID:            id,
		ApplicationID: a.cfg.ApplicationID,
		Collector:     standbyCollector{id: id},
		StateDir:      a.cfg.StateDir,
		Global:        a.global,
		Logger:        t.log,
	})
	if err != nil {
		return nil, err
	}
	sb := &standbyTask{id: id, task: task, dir: dir, store: map[topicPart]string{}, persist: persist, pos: map[topicPart]int64{}}
	for s, tp := range changelog {
		sb.store[tp] = s
		off, ok := ckpt[state.TopicPartition{Topic: tp.topic, Partition: tp.partition}]
		if !ok || !persist[s] {
			off = -1
		}
		sb.pos[tp] = off
	}
	return sb, nil
}

// updateStandbys applies the changelog records the standby consumer has
// buffered, without waiting for more.
func (t *streamThread) updateStandbys() error {
	if t.standbyCl == nil {
		return nil
	}
	// A nil context makes franz-go return what is buffered at once.
	fetches := t.standbyCl.PollRecords(nil, t.app.cfg.MaxPollRecords) //nolint:staticcheck // nil means "do not wait"
	fetches.EachError(func(topic string, p int32, err error) {
		if !errors.Is(err, context.Canceled) {
			t.log.Warn("standby fetch error", "topic", topic, "partition", p, "err", err)
		}
	})
	byTP := map[topicPart]*standbyTask{}
	for _, sb := range t.standbys {
		for tp := range sb.store {
			byTP[tp] = sb
		}
	}
	var rerr error
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		tp := topicPart{p.Topic, p.Partition}
		sb := byTP[tp]
		if sb == nil || rerr != nil || len(p.Records) == 0 {
			return
		}
		batch := make([]state.ChangelogRecord, 0, len(p.Records))
		last := sb.pos[tp]
		for _, r := range p.Records {
			if r.Offset <= last {
				continue
			}
			last = r.Offset
			if r.Attrs.IsControl() {
				continue
			}
			batch = append(batch, state.ChangelogRecord{Key: r.Key, Value: r.Value, Timestamp: r.Timestamp.UnixMilli()})
		}
		if len(batch) > 0 {
			if err := sb.task.Restore(sb.store[tp], batch); err != nil {
				rerr = fmt.Errorf("streams: standby task %s: update %q: %w", sb.id, sb.store[tp], err)
				return
			}
			t.app.metrics.standbyUpdated.Add(float64(len(batch)))
		}
		if last != sb.pos[tp] {
			sb.pos[tp] = last
			sb.dirty = true
		}
	})
	return rerr
}

// checkpointStandbys flushes and checkpoints the standbys that applied
// records since their last checkpoint; the thread calls it at every
// commit.
func (t *streamThread) checkpointStandbys() error {
	for _, sb := range t.standbys {
		if !sb.dirty {
			continue
		}
		if err := t.checkpointStandby(sb); err != nil {
			return err
		}
	}
	return nil
}

// checkpointStandby flushes a standby's stores and writes its .checkpoint:
// the last changelog offset each persistent store holds.
func (t *streamThread) checkpointStandby(sb *standbyTask) error {
	if err := sb.task.Commit(); err != nil {
		return err
	}
	offsets := map[state.TopicPartition]int64{}
	for tp, s := range sb.store {
		if off := sb.pos[tp]; sb.persist[s] && off >= 0 {
			offsets[state.TopicPartition{Topic: tp.topic, Partition: tp.partition}] = off
		}
	}
	sb.dirty = false
	if len(offsets) == 0 {
		return nil
	}
	if err := os.MkdirAll(sb.dir, 0o755); err != nil {
		return fmt.Errorf("streams: standby task %s: %w", sb.id, err)
	}
	if err := state.WriteCheckpoint(filepath.Join(sb.dir, state.CheckpointFile), offsets); err != nil {
		return fmt.Errorf("streams: standby task %s: %w", sb.id, err)
	}
	return nil
}

// closeStandby writes a standby's checkpoint and closes its stores; the
// state stays on disk for a later assignment of the task here.
func (t *streamThread) closeStandby(sb *standbyTask) {
	if err := t.checkpointStandby(sb); err != nil {
		t.log.Warn("standby checkpoint on close failed", "task", sb.id.String(), "err", err)
	}
	if err := sb.task.Close(); err != nil {
		t.log.Warn("close standby task", "task", sb.id.String(), "err", err)
	}
	delete(t.standbys, sb.id)
	t.standbyChanged = true
	t.app.metrics.standbyTasks.Dec()
}

// closeStandbys closes every standby and the standby consumer, when the
// thread ends.
func (t *streamThread) closeStandbys() {
	for _, sb := range t.standbys {
		t.closeStandby(sb)
	}
	t.wantStandby = nil
	t.publishStandbys()
	if t.standbyCl != nil {
		t.standbyCl.Close()
		t.standbyCl = nil
	}
}

// publishStandbys stores the standby tasks the thread keeps (open or
// waiting to open), for its next subscription.
func (t *streamThread) publishStandbys() {
	held := make([]string, 0, len(t.wantStandby))
	for id := range t.wantStandby {
		held = append(held, id.String())
	}
	for id := range t.standbys {
		if !t.wantStandby[id] {
			held = append(held, id.String())
		}
	}
	slices.Sort(held)
	t.heldStandby.Store(&held)
}
