// Package broker wires one Runnel broker node together: the data
// directories and partition logs, the metadata controller, the replica
// manager and the Kafka protocol server. It holds no logic of its own
// beyond that wiring and the order of start-up and shutdown.
package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/runnel/runnel/broker/config"
	"github.com/runnel/runnel/broker/controller"
	"github.com/runnel/runnel/broker/group"
	"github.com/runnel/runnel/broker/log"
	"github.com/runnel/runnel/broker/metadata"
	"github.com/runnel/runnel/broker/replica"
	"github.com/runnel/runnel/broker/server"
	"github.com/runnel/runnel/broker/txn"
)

// Config configures a broker node.
type Config struct {
	// Broker is the validated node configuration (server.properties).
	Broker *config.Broker
	// Logger; nil discards.
	Logger *slog.Logger
	// Registerer receives the broker's metrics; nil registers none.
	Registerer prometheus.Registerer
}

// Broker is a running broker node.
type Broker struct {
	cfg      Config
	log      *slog.Logger
	locks    []*os.File
	logs     *log.Manager
	ctrl     *controller.Controller
	replicas *replica.Manager
	groups   *group.Coordinator
	txns     *txn.Coordinator
	srv      *server.Server
	addrs    []net.Addr

	// effective is the configuration in effect: cfg.Broker with the
	// metadata image's dynamic broker configs (the cluster default and
	// this node's) laid over it. Request handlers read it; the metadata
	// subscriber replaces it, and alone touches dynDefault and dynNode,
	// the dynamic configs it was built from.
	effective           atomic.Pointer[config.Broker]
	dynDefault, dynNode map[string]string

	metrics *collector // registered on cfg.Registerer, or nil

	closeOnce sync.Once
	closeErr  error
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// New opens the data directories (formatting new ones, recovering logs
// after an unclean shutdown), restores the metadata, and binds the
// listeners. Serving starts with Run.
func New(cfg Config) (b *Broker, err error) {
	if cfg.Broker == nil {
		return nil, errors.New("broker: no configuration")
	}
	bc := cfg.Broker
	b = &Broker{cfg: cfg, log: cfg.Logger}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	// Failing returns set b to nil; release what this one took.
	opened := b
	defer func() {
		if err != nil {
			opened.release()
		}
	}()
	for _, d := range bc.LogDirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("broker: log.dirs: %w", err)
		}
		lock, err := lockDir(d)
		if err != nil {
			return nil, err
		}
		b.locks = append(b.locks, lock)
	}
	clusterID, err := metadata.FormatDirs(bc.LogDirs, bc.NodeID)
	if err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	store := metadata.NewStore(bc.LogDirs[0])
	img, err := store.Load()
	if err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	if img == nil {
		img = metadata.Empty(clusterID)
	} else if img.ClusterID != clusterID {
		return nil, fmt.Errorf("broker: metadata snapshot belongs to cluster %s, log dirs to %s", img.ClusterID, clusterID)
	}

	// Dynamic broker configs committed before the restart apply from the
	// start: the logs open with the topic configs they resolve to.
	b.updateEffective(img)

	b.logs, err = log.NewManager(log.ManagerConfig{
		Dirs:                   bc.LogDirs,
		RecoveryThreadsPerDir:  bc.NumRecoveryThreadsPerDataDir,
		FlushCheckInterval:     millis(bc.LogFlushSchedulerIntervalMs),
		RetentionCheckInterval: millis(bc.LogRetentionCheckIntervalMs),
		CheckpointInterval:     millis(bc.LogFlushOffsetCheckpointIntervalMs),
		Skip:                   func(name string) bool { return name == metadata.SnapshotDir },
		// log.cleaner.threads=0 runs no cleaner, as log.cleaner.enable=false does.
		CleanerDisabled:               !bc.LogCleanerEnable || bc.LogCleanerThreads <= 0,
		CleanerThreads:                int(bc.LogCleanerThreads),
		CleanerBackoff:                millis(bc.LogCleanerBackoffMs),
		CleanerDedupeBufferSize:       bc.LogCleanerDedupeBufferSize,
		CleanerDedupeBufferLoadFactor: bc.LogCleanerIOBufferLoadFactor,
		CleanerIOBufferSize:           int(bc.LogCleanerIOBufferSize),
		CleanerIOMaxBytesPerSecond:    bc.LogCleanerIOMaxBytesPerSecond,
		Logger:                        b.log,
	})
	if err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	topicConfig := topicResolver(b.effective.Load())
	if err := b.logs.Load(func(topic string) (log.Config, error) {
		var overrides map[string]string
		if t := img.Topic(topic); t != nil {
			overrides = t.Configs
		}
		pc, err := topicConfig(overrides)
		return pc.Log, err
	}); err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}

	b.ctrl, err = controller.New(controller.Config{
		Image:                    img,
		Store:                    store,
		DefaultPartitions:        bc.NumPartitions,
		DefaultReplicationFactor: bc.DefaultReplicationFactor,
		DeleteTopicEnable:        bc.DeleteTopicEnable,
		ValidateTopicConfig:      config.ValidateTopic,
		ValidateBrokerConfig:     config.ValidateDynamicFor,
		Logger:                   b.log,
	})
	if err != nil {
		return nil, err
	}
	b.replicas = replica.NewManager(replica.ManagerConfig{
		NodeID:      bc.NodeID,
		Logs:        b.logs,
		TopicConfig: topicConfig,
		Logger:      b.log,
	})

	gcfg := group.ConfigFrom(bc)
	gcfg.Replicas, gcfg.Logger = b.replicas, b.log
	if b.groups, err = group.New(gcfg); err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}

	var listeners []server.Listener
	for _, l := range bc.Listeners {
		listeners = append(listeners, server.Listener{Name: l.Name, Addr: net.JoinHostPort(l.Host, strconv.Itoa(l.Port))})
	}
	producerIDs := txn.NewProducerIDs(func(n int64) (int64, error) {
		return b.ctrl.AllocateProducerIDs(bc.NodeID, n)
	})
	tcfg := txn.ConfigFrom(bc)
	tcfg.Replicas, tcfg.ProducerIDs, tcfg.Logger = b.replicas, producerIDs, b.log
	markers := &markerWriter{replicas: b.replicas, groups: b.groups}
	tcfg.Markers = markers
	if b.txns, err = txn.New(tcfg); err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	b.srv, err = server.New(server.Config{
		NodeID:                 bc.NodeID,
		Listeners:              listeners,
		Broker:                 bc,
		CurrentBroker:          b.effective.Load,
		Controller:             b.ctrl,
		Replicas:               b.replicas,
		Groups:                 b.groups,
		ProducerIDs:            producerIDs,
		Transactions:           b.txns,
		Markers:                markers,
		MaxRequestBytes:        bc.SocketRequestMaxBytes,
		FetchSessionCacheSlots: bc.MaxIncrementalFetchSessionCacheSlots,
		Logger:                 b.log,
	})
	if err != nil {
		return nil, err
	}
	if b.addrs, err = b.srv.Listen(); err != nil {
		return nil, err
	}
	if err := b.ctrl.RegisterBroker(b.registration()); err != nil {
		return nil, fmt.Errorf("broker: register: %w", err)
	}

	var applyErr error
	b.ctrl.Subscribe(func(img *metadata.Image) {
		// The effective configuration changes before the replicas apply
		// the image, so that every topic resolves against the new values.
		if b.updateEffective(img) {
			b.replicas.SetTopicConfig(topicResolver(b.effective.Load()))
		}
		if err := b.replicas.Apply(img); err != nil {
			applyErr = err
			b.log.Error("applying metadata failed", "err", err)
		}
		// The group coordinator loads the __consumer_offsets partitions
		// this node now leads.
		b.groups.Apply(img)
		// The transaction coordinator loads its __transaction_state
		// partitions.
		b.txns.Apply(img)
	})
	if applyErr != nil {
		return nil, fmt.Errorf("broker: %w", applyErr)
	}
	// Logs on disk whose topic is gone were deleted while the node was down.
	for _, tp := range b.logs.Partitions() {
		if _, err := b.replicas.Get(tp.Topic, tp.Partition); err != nil {
			b.log.Info("deleting log of removed partition", "topic", tp.Topic, "partition", tp.Partition)
			if err := b.logs.Delete(tp.Topic, tp.Partition); err != nil {
				return nil, fmt.Errorf("broker: %w", err)
			}
		}
	}
	if cfg.Registerer != nil {
		c := newCollector(b)
		if err := cfg.Registerer.Register(c); err != nil {
			return nil, fmt.Errorf("broker: metrics: %w", err)
		}
		b.metrics = c
	}
	return b, nil
}

// updateEffective lays the dynamic broker configs of img (the cluster
// default and this node's) over the static configuration when they differ
// from those in effect, and reports whether they did.
func (b *Broker) updateEffective(img *metadata.Image) bool {
	clusterDefault := img.BrokerConfigs[""]
	node := img.BrokerConfigs[strconv.Itoa(int(b.cfg.Broker.NodeID))]
	if b.effective.Load() != nil && maps.Equal(clusterDefault, b.dynDefault) && maps.Equal(node, b.dynNode) {
		return false
	}
	b.effective.Store(effectiveConfig(b.cfg.Broker, clusterDefault, node, b.log))
	b.dynDefault, b.dynNode = clusterDefault, node
	return true
}

// registration describes this node's advertised endpoints. A listener on
// port 0 advertises the port it was given; an empty or wildcard host
// advertises the bound address.
func (b *Broker) registration() metadata.Broker {
	bc := b.cfg.Broker
	reg := metadata.Broker{NodeID: bc.NodeID}
	adv := bc.AdvertisedListeners
	if len(adv) == 0 {
		adv = bc.Listeners
	}
	for _, a := range adv {
		host, port := a.Host, a.Port
		for i, l := range bc.Listeners {
			if l.Name != a.Name {
				continue
			}
			bound := b.addrs[i].(*net.TCPAddr)
			if port == 0 {
				port = bound.Port
			}
			if host == "" || host == "0.0.0.0" || host == "::" {
				host = bound.IP.String()
				if bound.IP.IsUnspecified() {
					host, _ = os.Hostname()
				}
			}
		}
		reg.Endpoints = append(reg.Endpoints, metadata.Endpoint{
			Name: a.Name, Host: host, Port: int32(port), Protocol: bc.ListenerSecurityProtocolMap[a.Name],
		})
	}
	return reg
}

// Addrs returns the bound listener addresses, in the order of listeners.
func (b *Broker) Addrs() []net.Addr { return b.addrs }

// ClusterID returns the cluster's ID.
func (b *Broker) ClusterID() string { return b.ctrl.Image().ClusterID }

// Run serves clients and runs the background work (flushes, retention,
// checkpoints) until ctx ends, then shuts down cleanly.
func (b *Broker) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	b.cancel = cancel
	b.wg.Go(func() { b.logs.Run(ctx) })
	b.wg.Go(b.srv.Serve)
	<-ctx.Done()
	return b.Close()
}

// Close stops serving (in-flight requests finish, for up to 30 s), then
// flushes and closes every log and writes the clean-shutdown marker.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		if b.cancel != nil {
			b.cancel()
		}
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// Coordinator requests waiting for a rebalance or a write are
		// answered first (NOT_COORDINATOR), so that they do not hold up the
		// shutdown.
		b.txns.Close()
		b.groups.Close()
		err := b.srv.Shutdown(sctx)
		b.wg.Wait()
		b.closeErr = errors.Join(err, b.release())
	})
	return b.closeErr
}

// Abandon stops the node as a killed process stops, for crash tests in one
// process: connections are cut and background work ends, but nothing is
// flushed, checkpointed or marked clean, and the logs' files are left to
// the garbage collector. What was written stays in the page cache, as it
// does when only the process dies. The data directories are unlocked so
// that a new node can open them.
func (b *Broker) Abandon() {
	b.closeOnce.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		b.txns.Close()
		b.groups.Close()
		b.srv.Shutdown(ctx)
		if b.cancel != nil {
			b.cancel()
		}
		b.wg.Wait()
		for _, f := range b.locks {
			f.Close()
		}
		b.locks = nil
		if b.metrics != nil {
			b.cfg.Registerer.Unregister(b.metrics)
			b.metrics = nil
		}
		b.closeErr = errors.New("broker: abandoned")
	})
}

// release stops the group coordinator, closes the logs and unlocks the
// dirs.
func (b *Broker) release() error {
	if b.metrics != nil {
		b.cfg.Registerer.Unregister(b.metrics)
		b.metrics = nil
	}
	var errs []error
	if b.txns != nil {
		errs = append(errs, b.txns.Close())
	}
	if b.groups != nil {
		errs = append(errs, b.groups.Close())
	}
	if b.logs != nil {
		errs = append(errs, b.logs.Close())
	}
	for _, f := range b.locks {
		errs = append(errs, f.Close())
	}
	b.locks = nil
	return errors.Join(errs...)
}

// lockDir takes the dir's .lock with flock, as Kafka does, so two nodes
// never share a data directory.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, ".lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("broker: log dir %s is in use by another process (%s is locked)", dir, path)
	}
	return f, nil
}

// millis converts a Kafka millisecond setting to a Duration; values too
// large to represent (Kafka writes "never" as Long.MAX_VALUE) become 0,
// which the consumers of these settings read as their default.
func millis(ms int64) time.Duration {
	if ms <= 0 || ms > int64(math.MaxInt64/time.Millisecond) {
		return 0
	}
	return time.Duration(ms) * time.Millisecond
}
