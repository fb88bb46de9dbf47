package log

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// This file holds the Manager's side of the log cleaner: choosing the log
// to compact, the cleaner threads, the cleaner-offset-checkpoint files and
// per-log statistics.

// cleanerCheckpointFile is the data directory file recording each
// compacted partition's first dirty offset, in Kafka's name and in the
// format of the other checkpoint files (WriteCheckpoint).
const cleanerCheckpointFile = "cleaner-offset-checkpoint"

// CleanerStats is what the cleaner knows of one compacted log, for
// metrics.
type CleanerStats struct {
	// FirstDirtyOffset is where the next clean's dirty section starts, -1
	// until the log has been cleaned or read from cleaner-offset-checkpoint.
	FirstDirtyOffset int64
	// DirtyRatio is the dirty share of the cleanable part of the log as of
	// the cleaner's last look (see Cleanable).
	DirtyRatio float64
	// Cleans counts the cleans finished since the log was opened;
	// BytesRead, BytesWritten and RecordsRemoved add up theirs.
	Cleans                  int64
	BytesRead, BytesWritten int64
	RecordsRemoved          int64
	// LastCleanTime is when the last clean finished (zero for never), and
	// LastCleanDuration how long it took.
	LastCleanTime     time.Time
	LastCleanDuration time.Duration
	// Uncleanable says a clean failed (a corrupt batch, a dedupe buffer
	// too small for one batch's keys): the cleaner skips the log until it
	// is reopened, as Kafka does.
	Uncleanable bool
}

// cleaning is the Manager's cleaner state; mu guards it and is never held
// across I/O.
type cleaning struct {
	mu      sync.Mutex
	stopped bool // the Manager is closing: no new clean starts
	states  map[TopicPartition]*cleanerState
	// loaded are first dirty offsets read from the checkpoint files, for
	// logs the cleaner has not looked at yet.
	loaded map[TopicPartition]int64

	pool   chan *Cleaner // log.cleaner.threads cleaners, borrowed per clean
	ckptMu sync.Mutex    // serializes cleaner-offset-checkpoint writes
}

// cleanerState is the cleaner's memory of one log.
type cleanerState struct {
	log        *Log
	firstDirty int64  // -1: the log start offset
	gen        uint64 // the log's truncation count firstDirty is valid for
	horizon    int64  // latest delete horizon of kept tombstones, -1 for none
	busy       bool   // a clean is running
	paused     bool   // the log is being deleted
	cancel     context.CancelFunc
	done       chan struct{} // closed when the running clean ends
	stats      CleanerStats
}

// initCleaning validates the cleaner settings of cfg (defaulted) and
// makes the cleaners, sharing the broker-level buffers among the threads.
func (m *Manager) initCleaning() error {
	cfg := &m.cfg
	if cfg.CleanerThreads <= 0 {
		cfg.CleanerThreads = DefaultCleanerThreads
	}
	if cfg.CleanerBackoff <= 0 {
		cfg.CleanerBackoff = DefaultCleanerBackoff
	}
	if cfg.CleanerDedupeBufferSize == 0 {
		cfg.CleanerDedupeBufferSize = DefaultDedupeBufferSize
	}
	if cfg.CleanerIOBufferSize == 0 {
		cfg.CleanerIOBufferSize = DefaultCleanerIOBufferSize
	}
	th := newThrottle(cfg.CleanerIOMaxBytesPerSecond)
	m.clean.states = map[TopicPartition]*cleanerState{}
	m.clean.loaded = map[TopicPartition]int64{}
	m.clean.pool = make(chan *Cleaner, cfg.CleanerThreads)
	if cfg.CleanerIOBufferSize < 0 {
		return fmt.Errorf("%w: log.cleaner.io.buffer.size=%d: must not be negative", ErrInvalidConfig, cfg.CleanerIOBufferSize)
	}
	ioBuffer := cfg.CleanerIOBufferSize / cfg.CleanerThreads
	if ioBuffer == 0 {
		ioBuffer = 1 // a total below one byte per thread; 0 would mean the default
	}
	for range cfg.CleanerThreads {
		c, err := NewCleaner(CleanerConfig{
			DedupeBufferSize:       cfg.CleanerDedupeBufferSize / int64(cfg.CleanerThreads),
			DedupeBufferLoadFactor: cfg.CleanerDedupeBufferLoadFactor,
			IOBufferSize:           ioBuffer,
			MaxIOBytesPerSecond:    cfg.CleanerIOMaxBytesPerSecond,
		})
		if err != nil {
			return err
		}
		c.throttle = th // one limit for all threads, as in Kafka
		m.clean.pool <- c
	}
	return nil
}

// loadCleanerCheckpoint remembers the first dirty offsets recorded in
// dir. A missing or unreadable file means every log starts from its log
// start offset, as in Kafka.
func (m *Manager) loadCleanerCheckpoint(dir string) {
	offsets := checkpointMap(m.fs, filepath.Join(dir, cleanerCheckpointFile))
	m.clean.mu.Lock()
	defer m.clean.mu.Unlock()
	for tp, off := range offsets {
		m.clean.loaded[tp] = off
	}
}

// stateLocked returns the cleaner state of l, creating it, or nil when l
// is no longer the open log of tp (deleted meanwhile); the caller holds
// clean.mu.
func (m *Manager) stateLocked(tp TopicPartition, l *Log) *cleanerState {
	st := m.clean.states[tp]
	if st != nil && st.log == l {
		return st
	}
	m.mu.Lock()
	open := m.logs[tp] == l
	m.mu.Unlock()
	if !open {
		return nil
	}
	// gen 0 is the truncation count of a freshly opened log: a truncation
	// since then resets the first dirty offset.
	st = &cleanerState{log: l, firstDirty: -1, horizon: -1}
	if off, ok := m.clean.loaded[tp]; ok {
		st.firstDirty = off
		delete(m.clean.loaded, tp)
	}
	st.stats.FirstDirtyOffset = st.firstDirty
	m.clean.states[tp] = st
	return st
}

// runCleaner is one cleaner thread (log.cleaner.threads): it cleans the
// dirtiest due log, and when none is due waits log.cleaner.backoff.ms.
func (m *Manager) runCleaner(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		tp, cleaned, err := m.cleanOnce(ctx, nil)
		switch {
		case errors.Is(err, ErrClosed) || ctx.Err() != nil:
			return
		case errors.Is(err, ErrCleaningAborted):
			m.log.Info("log cleaning aborted", "topic", tp.Topic, "partition", tp.Partition, "err", err)
		case err != nil:
			m.log.Error("log cleaning failed; the log is skipped until it is reopened", "topic", tp.Topic, "partition", tp.Partition, "err", err)
		}
		if cleaned {
			timer.Reset(0)
		} else {
			timer.Reset(m.cfg.CleanerBackoff)
		}
	}
}

// CleanNow runs one cleaning pass on the calling goroutine: every
// compacted log that is due (see Cleanable.Due, or whose kept tombstones'
// delete horizon has passed) is cleaned once, the dirtiest first. It waits
// for a free cleaner when the cleaner threads are all busy and works even
// when the cleaner threads are disabled. It returns how many logs it
// cleaned and the errors of those it could not clean; ErrClosed once the
// Manager is closing.
func (m *Manager) CleanNow(ctx context.Context) (int, error) {
	done := map[TopicPartition]bool{}
	var errs []error
	n := 0
	for {
		tp, cleaned, err := m.cleanOnce(ctx, done)
		if errors.Is(err, ErrClosed) || ctx.Err() != nil {
			return n, errors.Join(append(errs, cmp.Or(ctx.Err(), err))...)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", tp, err))
		}
		if !cleaned && err == nil {
			return n, errors.Join(errs...)
		}
		if cleaned {
			n++
		}
		done[tp] = true
	}
}

// cleanOnce borrows a cleaner, picks the dirtiest due log not in skip and
// cleans it. cleaned is false when no log was due (err nil) or the clean
// failed.
func (m *Manager) cleanOnce(ctx context.Context, skip map[TopicPartition]bool) (tp TopicPartition, cleaned bool, err error) {
	var c *Cleaner
	select {
	case c = <-m.clean.pool:
	case <-ctx.Done():
		return tp, false, ctx.Err()
	}
	defer func() { m.clean.pool <- c }()

	now := time.Now()
	job, err := m.grab(ctx, now, skip)
	if err != nil || job == nil {
		return tp, false, err
	}
	start := time.Now()
	res, err := c.Clean(job.ctx, job.log, job.firstDirty, now)
	job.cancel()
	took := time.Since(start)

	m.clean.mu.Lock()
	st := job.state
	st.busy = false
	close(st.done)
	st.done, st.cancel = nil, nil
	switch {
	case err == nil:
		st.firstDirty, st.gen = res.FirstDirtyOffset, job.gen
		if res.Groups > 0 {
			st.horizon = res.DeleteHorizon
		}
		st.stats.FirstDirtyOffset = res.FirstDirtyOffset
		st.stats.Cleans++
		st.stats.BytesRead += res.BytesRead
		st.stats.BytesWritten += res.BytesWritten
		st.stats.RecordsRemoved += res.RecordsRemoved
		st.stats.LastCleanTime = time.Now()
		st.stats.LastCleanDuration = took
	case !errors.Is(err, ErrCleaningAborted) && !errors.Is(err, ErrClosed):
		st.stats.Uncleanable = true
	}
	m.clean.mu.Unlock()
	if err != nil {
		return job.tp, false, err
	}
	m.mu.Lock()
	dir, ok := m.where[job.tp]
	m.mu.Unlock()
	if ok {
		if err := m.writeCleanerCheckpoint(dir); err != nil {
			// The clean stands; the next one redoes what the file misses.
			m.log.Warn("writing the cleaner checkpoint failed", "dir", dir, "err", err)
		}
	}
	if l, ok := m.Get(job.tp.Topic, job.tp.Partition); ok {
		if cb, err := l.Cleanable(res.FirstDirtyOffset, now); err == nil {
			m.clean.mu.Lock()
			st.stats.DirtyRatio = cb.DirtyRatio
			m.clean.mu.Unlock()
		}
	}
	return job.tp, true, nil
}

// cleanJob is a clean the cleaner has claimed.
type cleanJob struct {
	tp         TopicPartition
	log        *Log
	state      *cleanerState
	firstDirty int64
	gen        uint64
	ctx        context.Context
	cancel     context.CancelFunc
}

// grab picks the dirtiest due log, not in skip, that no other cleaner is
// cleaning, and claims it. It returns nil when no log is due.
func (m *Manager) grab(ctx context.Context, now time.Time, skip map[TopicPartition]bool) (*cleanJob, error) {
	type candidate struct {
		tp         TopicPartition
		log        *Log
		firstDirty int64
		gen        uint64
		horizon    int64
		ratio      float64
	}
	var cands []candidate
	for tp, l := range m.openLogs() {
		if !skip[tp] && l.Config().Compact {
			cands = append(cands, candidate{tp: tp, log: l})
		}
	}
	m.clean.mu.Lock()
	if m.clean.stopped {
		m.clean.mu.Unlock()
		return nil, ErrClosed
	}
	kept := cands[:0]
	for _, c := range cands {
		st := m.stateLocked(c.tp, c.log)
		if st == nil || st.busy || st.paused || st.stats.Uncleanable {
			continue
		}
		c.firstDirty, c.gen, c.horizon = st.firstDirty, st.gen, st.horizon
		kept = append(kept, c)
	}
	m.clean.mu.Unlock()

	// Without locks: this reads segment headers and indexes.
	var due []candidate
	ratios := map[TopicPartition]float64{}
	for _, c := range kept {
		if g := c.log.truncationCount(); g != c.gen {
			// A truncation may have rewritten offsets thought clean.
			c.firstDirty, c.gen = -1, g
		}
		cb, err := c.log.Cleanable(c.firstDirty, now)
		if err != nil {
			if !errors.Is(err, ErrClosed) && !errors.Is(err, ErrStorage) {
				m.log.Warn("cannot tell whether a log needs cleaning", "topic", c.tp.Topic, "partition", c.tp.Partition, "err", err)
			}
			continue
		}
		ratios[c.tp] = cb.DirtyRatio
		tombstonesDue := c.horizon >= 0 && now.UnixMilli() >= c.horizon && cb.FirstUncleanableOffset > c.log.LogStartOffset()
		if cb.Due || tombstonesDue {
			c.ratio = cb.DirtyRatio
			due = append(due, c)
		}
	}
	slices.SortStableFunc(due, func(a, b candidate) int { return cmp.Compare(b.ratio, a.ratio) })

	m.clean.mu.Lock()
	defer m.clean.mu.Unlock()
	for tp, r := range ratios {
		if st := m.clean.states[tp]; st != nil {
			st.stats.DirtyRatio = r
		}
	}
	if m.clean.stopped {
		return nil, ErrClosed
	}
	for _, c := range due {
		st := m.clean.states[c.tp]
		if st == nil || st.log != c.log || st.busy || st.paused {
			continue // claimed or deleted meanwhile
		}
		jctx, cancel := context.WithCancel(ctx)
		st.busy, st.cancel, st.done = true, cancel, make(chan struct{})
		if c.firstDirty < 0 {
			st.firstDirty = -1
		}
		return &cleanJob{tp: c.tp, log: c.log, state: st, firstDirty: c.firstDirty, gen: c.gen, ctx: jctx, cancel: cancel}, nil
	}
	return nil, nil
}

// openLogs copies the set of open logs.
func (m *Manager) openLogs() map[TopicPartition]*Log {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[TopicPartition]*Log, len(m.logs))
	for tp, l := range m.logs {
		out[tp] = l
	}
	return out
}

// CleanerStats returns the cleaner's statistics of every compacted log it
// has looked at.
func (m *Manager) CleanerStats() map[TopicPartition]CleanerStats {
	m.clean.mu.Lock()
	defer m.clean.mu.Unlock()
	out := make(map[TopicPartition]CleanerStats, len(m.clean.states))
	for tp, st := range m.clean.states {
		out[tp] = st.stats
	}
	return out
}

// stopCleaning stops new cleans and aborts and waits for the running
// ones.
func (m *Manager) stopCleaning() {
	m.clean.mu.Lock()
	m.clean.stopped = true
	var waits []chan struct{}
	for _, st := range m.clean.states {
		if st.busy {
			st.cancel()
			waits = append(waits, st.done)
		}
	}
	m.clean.mu.Unlock()
	for _, w := range waits {
		<-w
	}
}

// pauseCleaning keeps the cleaner away from l, the log of tp, from now on
// and aborts and waits for a clean of it in progress (Kafka's
// abortAndPauseCleaning).
func (m *Manager) pauseCleaning(tp TopicPartition, l *Log) {
	m.clean.mu.Lock()
	st := m.clean.states[tp]
	if st == nil || st.log != l {
		st = &cleanerState{log: l, firstDirty: -1, horizon: -1}
		m.clean.states[tp] = st
	}
	st.paused = true
	var wait chan struct{}
	if st.busy {
		st.cancel()
		wait = st.done
	}
	m.clean.mu.Unlock()
	if wait != nil {
		<-wait
	}
}

// forgetCleaning drops what the cleaner knows of a deleted partition and
// removes it from dir's checkpoint file.
func (m *Manager) forgetCleaning(tp TopicPartition, dir string) error {
	m.clean.mu.Lock()
	_, known := m.clean.states[tp]
	_, loaded := m.clean.loaded[tp]
	delete(m.clean.states, tp)
	delete(m.clean.loaded, tp)
	m.clean.mu.Unlock()
	if !known && !loaded {
		return nil
	}
	return m.writeCleanerCheckpoint(dir)
}

// writeCleanerCheckpoint rewrites dir's cleaner-offset-checkpoint with the
// first dirty offsets of its logs.
func (m *Manager) writeCleanerCheckpoint(dir string) error {
	m.clean.ckptMu.Lock()
	defer m.clean.ckptMu.Unlock()
	m.mu.Lock()
	var tps []TopicPartition
	for tp, d := range m.where {
		if d == dir {
			tps = append(tps, tp)
		}
	}
	m.mu.Unlock()
	slices.SortFunc(tps, func(a, b TopicPartition) int {
		return cmp.Or(strings.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	var entries []CheckpointEntry
	m.clean.mu.Lock()
	for _, tp := range tps {
		off := int64(-1)
		if st := m.clean.states[tp]; st != nil {
			off = st.firstDirty
		} else if o, ok := m.clean.loaded[tp]; ok {
			off = o
		}
		if off >= 0 {
			entries = append(entries, CheckpointEntry{Topic: tp.Topic, Partition: tp.Partition, Offset: off})
		}
	}
	m.clean.mu.Unlock()
	return WriteCheckpoint(m.fs, filepath.Join(dir, cleanerCheckpointFile), entries)
}
