package log

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// The data directory's files, in Kafka's names.
const (
	// CleanShutdownFile marks a data directory whose logs were all flushed
	// and closed; its absence at start-up means recovery.
	CleanShutdownFile        = ".kafka_cleanshutdown"
	recoveryPointCheckpoint  = "recovery-point-offset-checkpoint"
	logStartOffsetCheckpoint = "log-start-offset-checkpoint"
	highWatermarkCheckpoint  = "replication-offset-checkpoint"
	// deleteSuffix marks a partition directory being deleted.
	deleteSuffix = "-delete"
)

// TopicPartition names a partition log.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string { return fmt.Sprintf("%s-%d", tp.Topic, tp.Partition) }

// ManagerConfig configures a Manager. Zero durations take Kafka's defaults.
type ManagerConfig struct {
	// Dirs are the data directories (log.dirs).
	Dirs []string
	// RecoveryThreadsPerDir opens and recovers logs in parallel
	// (num.recovery.threads.per.data.dir, default 1).
	RecoveryThreadsPerDir int
	// FlushCheckInterval is how often logs are checked against flush.ms
	// (log.flush.scheduler.interval.ms; Kafka's default is Long.MAX, Runnel
	// checks every second so flush.ms works when a topic sets it).
	FlushCheckInterval time.Duration
	// RetentionCheckInterval (log.retention.check.interval.ms, 5 min).
	RetentionCheckInterval time.Duration
	// CheckpointInterval is how often the recovery point, log start offset
	// and high watermark checkpoints are written
	// (log.flush.offset.checkpoint.interval.ms, 60 s).
	CheckpointInterval time.Duration
	// Skip names directories under a data directory that are not partition
	// logs of this manager (e.g. the metadata snapshot).
	Skip func(name string) bool

	// CleanerDisabled stops Run from starting the log cleaner threads
	// (log.cleaner.enable=false; inverted so that the zero value is
	// Kafka's default, enabled). CleanNow works either way.
	CleanerDisabled bool
	// CleanerThreads is the number of cleaner threads
	// (log.cleaner.threads, 1).
	CleanerThreads int
	// CleanerBackoff is how long a cleaner thread sleeps when no log needs
	// cleaning (log.cleaner.backoff.ms, 15 s).
	CleanerBackoff time.Duration
	// CleanerDedupeBufferSize is the offset map memory shared by the
	// cleaner threads (log.cleaner.dedupe.buffer.size, 128 MiB).
	CleanerDedupeBufferSize int64
	// CleanerDedupeBufferLoadFactor is how full an offset map may get
	// (log.cleaner.io.buffer.load.factor, 0.9).
	CleanerDedupeBufferLoadFactor float64
	// CleanerIOBufferSize is the read and write buffer memory shared by
	// the cleaner threads (log.cleaner.io.buffer.size, 512 KiB).
	CleanerIOBufferSize int
	// CleanerIOMaxBytesPerSecond limits the cleaner threads' I/O together
	// (log.cleaner.io.max.bytes.per.second; 0 = unlimited, as Kafka's
	// default Double.MAX_VALUE).
	CleanerIOMaxBytesPerSecond float64

	FS     FS
	Logger *slog.Logger
}

// Manager owns every partition log of a node's data directories: it opens
// and recovers them at start-up, creates and deletes them, runs the
// periodic flush, retention and checkpoint work and the log cleaner, and
// marks the directories clean at shutdown.
type Manager struct {
	cfg ManagerConfig
	fs  FS
	log *slog.Logger

	// mu guards logs and where; it is not held across log I/O except
	// the creation of a new log's directory.
	mu    sync.Mutex
	logs  map[TopicPartition]*Log
	where map[TopicPartition]string // data directory of each log

	clean cleaning // the log cleaner (cleaner_manager.go)
}

// NewManager returns a manager for cfg.Dirs; Load opens what they hold.
func NewManager(cfg ManagerConfig) (*Manager, error) {
	if len(cfg.Dirs) == 0 {
		return nil, errors.New("log: no data directories")
	}
	if cfg.RecoveryThreadsPerDir <= 0 {
		cfg.RecoveryThreadsPerDir = 1
	}
	if cfg.FlushCheckInterval <= 0 {
		cfg.FlushCheckInterval = time.Second
	}
	if cfg.RetentionCheckInterval <= 0 {
		cfg.RetentionCheckInterval = 5 * time.Minute
	}
	if cfg.CheckpointInterval <= 0 {
		cfg.CheckpointInterval = time.Minute
	}
	if cfg.Skip == nil {
		cfg.Skip = func(string) bool { return false }
	}
	m := &Manager{cfg: cfg, fs: cfg.FS, log: cfg.Logger, logs: map[TopicPartition]*Log{}, where: map[TopicPartition]string{}}
	if m.fs == nil {
		m.fs = OS()
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if err := m.initCleaning(); err != nil {
		return nil, err
	}
	for _, d := range cfg.Dirs {
		if err := m.fs.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("log: data directory %s: %w", d, err)
		}
	}
	return m, nil
}

// Load opens every partition log found in the data directories, recovering
// those of a directory that was not shut down cleanly, on
// RecoveryThreadsPerDir workers per directory. configFor gives each
// topic's log config. Directories left half-deleted are removed.
func (m *Manager) Load(configFor func(topic string) (Config, error)) error {
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, dir := range m.cfg.Dirs {
		clean := true
		if _, err := m.fs.Stat(filepath.Join(dir, CleanShutdownFile)); err != nil {
			clean = false
		}
		recovery := checkpointMap(m.fs, filepath.Join(dir, recoveryPointCheckpoint))
		starts := checkpointMap(m.fs, filepath.Join(dir, logStartOffsetCheckpoint))
		hws := checkpointMap(m.fs, filepath.Join(dir, highWatermarkCheckpoint))
		m.loadCleanerCheckpoint(dir)

		entries, err := m.fs.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("log: read %s: %w", dir, err)
		}
		jobs := make(chan string)
		found := 0
		for range m.cfg.RecoveryThreadsPerDir {
			wg.Go(func() {
				for name := range jobs {
					err := m.loadOne(dir, name, clean, recovery, starts, hws, configFor)
					if err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
					}
				}
			})
		}
		for _, e := range entries {
			name := e.Name()
			if !e.IsDir() || m.cfg.Skip(name) {
				continue
			}
			if strings.HasSuffix(name, deleteSuffix) {
				if err := removeFlatDir(m.fs, filepath.Join(dir, name)); err != nil {
					m.log.Warn("removing deleted partition dir failed", "dir", name, "err", err)
				}
				continue
			}
			if _, _, err := ParseDir(name); err != nil {
				continue
			}
			jobs <- name
			found++
		}
		close(jobs)
		wg.Wait()
		if !clean && found > 0 {
			m.log.Info("recovered data directory after unclean shutdown", "dir", dir)
		}
		// From now on the directory is in use: a crash must recover it.
		if err := m.fs.Remove(filepath.Join(dir, CleanShutdownFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("log: %w", err))
		}
	}
	return errors.Join(errs...)
}

func (m *Manager) loadOne(dir, name string, clean bool, recovery, starts, hws map[TopicPartition]int64, configFor func(string) (Config, error)) error {
	topic, partition, _ := ParseDir(name)
	tp := TopicPartition{topic, partition}
	cfg, err := configFor(topic)
	if err != nil {
		return fmt.Errorf("log: config of %s: %w", tp, err)
	}
	cfg.FS = m.cfg.FS
	if cfg.Logger == nil {
		cfg.Logger = m.log
	}
	l, err := Open(filepath.Join(dir, name), cfg, OpenOptions{
		RecoveryPoint:  recovery[tp],
		LogStartOffset: starts[tp],
		CleanShutdown:  clean,
	})
	if err != nil {
		return fmt.Errorf("log: open %s: %w", tp, err)
	}
	if hw, ok := hws[tp]; ok {
		l.SetHighWatermark(min(hw, l.LogEndOffset()))
	}
	m.mu.Lock()
	m.logs[tp] = l
	m.where[tp] = dir
	m.mu.Unlock()
	return nil
}

func checkpointMap(fs FS, path string) map[TopicPartition]int64 {
	out := map[TopicPartition]int64{}
	entries, err := ReadCheckpoint(fs, path)
	if err != nil {
		return out
	}
	for _, e := range entries {
		out[TopicPartition{e.Topic, e.Partition}] = e.Offset
	}
	return out
}

// Open returns the partition's log, creating it in the data directory with
// the fewest partitions when it does not exist. An existing log keeps its
// config; use Log.SetConfig to change it.
func (m *Manager) Open(topic string, partition int32, cfg Config) (*Log, error) {
	tp := TopicPartition{topic, partition}
	m.mu.Lock()
	defer m.mu.Unlock()
	if l, ok := m.logs[tp]; ok {
		return l, nil
	}
	counts := map[string]int{}
	for _, d := range m.where {
		counts[d]++
	}
	dir := m.cfg.Dirs[0]
	for _, d := range m.cfg.Dirs[1:] {
		if counts[d] < counts[dir] {
			dir = d
		}
	}
	cfg.FS = m.cfg.FS
	if cfg.Logger == nil {
		cfg.Logger = m.log
	}
	l, err := Open(filepath.Join(dir, DirName(tp.Topic, tp.Partition)), cfg, OpenOptions{CleanShutdown: true})
	if err != nil {
		return nil, err
	}
	m.logs[tp] = l
	m.where[tp] = dir
	return l, nil
}

// Get returns an open log.
func (m *Manager) Get(topic string, partition int32) (*Log, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.logs[TopicPartition{topic, partition}]
	return l, ok
}

// Partitions lists the open logs.
func (m *Manager) Partitions() []TopicPartition {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Collect(maps.Keys(m.logs))
}

// Delete closes the partition's log and removes its directory. Deleting a
// log that is not open is not an error.
func (m *Manager) Delete(topic string, partition int32) error {
	tp := TopicPartition{topic, partition}
	l, ok := m.Get(topic, partition)
	if !ok {
		return nil
	}
	// No clean of the log may run while its files go.
	m.pauseCleaning(tp, l)
	m.mu.Lock()
	if m.logs[tp] != l {
		m.mu.Unlock()
		return nil // deleted meanwhile
	}
	dir := m.where[tp]
	delete(m.logs, tp)
	delete(m.where, tp)
	m.mu.Unlock()
	return errors.Join(l.Delete(), m.forgetCleaning(tp, dir))
}

// Run does the periodic work until ctx ends: flushing logs whose flush.ms
// or flush.messages is due, applying retention, writing checkpoints, and
// (unless CleanerDisabled) compacting logs on CleanerThreads goroutines.
// It returns once they have all stopped.
func (m *Manager) Run(ctx context.Context) {
	var cleaners sync.WaitGroup
	defer cleaners.Wait()
	if !m.cfg.CleanerDisabled {
		for range m.cfg.CleanerThreads {
			cleaners.Go(func() { m.runCleaner(ctx) })
		}
	}
	flush := time.NewTicker(m.cfg.FlushCheckInterval)
	retention := time.NewTicker(m.cfg.RetentionCheckInterval)
	checkpoint := time.NewTicker(m.cfg.CheckpointInterval)
	defer flush.Stop()
	defer retention.Stop()
	defer checkpoint.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-flush.C:
			for _, l := range m.all() {
				if err := l.FlushIfDue(now); err != nil && !errors.Is(err, ErrClosed) {
					m.log.Error("flush failed", "dir", l.Dir(), "err", err)
				}
			}
		case now := <-retention.C:
			m.ApplyRetention(now)
		case <-checkpoint.C:
			if err := m.WriteCheckpoints(); err != nil {
				m.log.Error("writing checkpoints failed", "err", err)
			}
		}
	}
}

// ApplyRetention applies every log's retention.ms and retention.bytes.
func (m *Manager) ApplyRetention(now time.Time) {
	for _, l := range m.all() {
		n, err := l.ApplyRetention(now)
		if err != nil && !errors.Is(err, ErrClosed) {
			m.log.Error("retention failed", "dir", l.Dir(), "err", err)
		}
		if n > 0 {
			m.log.Info("deleted segments by retention", "dir", l.Dir(), "segments", n, "log_start_offset", l.LogStartOffset())
		}
	}
}

func (m *Manager) all() []*Log {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Collect(maps.Values(m.logs))
}

// WriteCheckpoints writes each data directory's recovery point, log start
// offset and high watermark checkpoints.
func (m *Manager) WriteCheckpoints() error {
	m.mu.Lock()
	byDir := map[string][]TopicPartition{}
	logs := maps.Clone(m.logs)
	for tp, d := range m.where {
		byDir[d] = append(byDir[d], tp)
	}
	m.mu.Unlock()
	var errs []error
	for _, dir := range m.cfg.Dirs {
		var rp, ls, hw []CheckpointEntry
		tps := byDir[dir]
		slices.SortFunc(tps, func(a, b TopicPartition) int {
			if c := strings.Compare(a.Topic, b.Topic); c != 0 {
				return c
			}
			return int(a.Partition - b.Partition)
		})
		for _, tp := range tps {
			l := logs[tp]
			rp = append(rp, CheckpointEntry{tp.Topic, tp.Partition, l.RecoveryPoint()})
			ls = append(ls, CheckpointEntry{tp.Topic, tp.Partition, l.LogStartOffset()})
			hw = append(hw, CheckpointEntry{tp.Topic, tp.Partition, l.HighWatermark()})
		}
		errs = append(errs,
			WriteCheckpoint(m.fs, filepath.Join(dir, recoveryPointCheckpoint), rp),
			WriteCheckpoint(m.fs, filepath.Join(dir, logStartOffsetCheckpoint), ls),
			WriteCheckpoint(m.fs, filepath.Join(dir, highWatermarkCheckpoint), hw))
	}
	return errors.Join(errs...)
}

// Close aborts the cleans in progress, flushes and closes every log,
// writes the checkpoints and, when all of that succeeded, the
// clean-shutdown marker of each data directory.
func (m *Manager) Close() error {
	m.stopCleaning()
	var errs []error
	for _, l := range m.all() {
		if err := l.Close(); err != nil {
			errs = append(errs, fmt.Errorf("log: close %s: %w", l.Dir(), err))
		}
	}
	errs = append(errs, m.WriteCheckpoints())
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, dir := range m.cfg.Dirs {
		f, err := m.fs.OpenFile(filepath.Join(dir, CleanShutdownFile), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, f.Sync(), f.Close(), m.fs.SyncDir(dir))
	}
	return errors.Join(errs...)
}

// removeFlatDir removes a partition directory and the files in it
// (partition directories have no subdirectories).
func removeFlatDir(fs FS, dir string) error {
	entries, err := fs.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, e := range entries {
		if err := fs.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if err := fs.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
