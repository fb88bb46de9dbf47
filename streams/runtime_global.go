package streams

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// globalThread keeps the global stores (GlobalTableOf) of an instance,
// as Kafka's GlobalStreamThread: it reads every partition of the global
// topics outside the group, first to their end before any stream thread
// starts, then continuously. Its task is the only writer of the global
// stores; stream tasks read them concurrently, which the state stores
// allow (one writer, any readers). The global topic is the stores'
// changelog, so the stores are rebuilt from it on every start.
type globalThread struct {
	app  *App
	task *Task
	cl   *kgo.Client
}

// noOutput refuses output from global processors, which have no sinks.
type noOutput struct{}

func (noOutput) Send(r OutputRecord) error {
	return fmt.Errorf("%w: a global store processor cannot write to %s", ErrTopology, r.Topic)
}

// newGlobalThread opens the global task and loads the global topics up to
// their end. It returns nil when the topology has no global stores.
func newGlobalThread(ctx context.Context, a *App, adm *kadm.Client) (*globalThread, error) {
	topics := a.topo.GlobalTopics()
	if len(topics) == 0 {
		return nil, nil
	}
	if err := os.RemoveAll(filepath.Join(a.cfg.StateDir, a.cfg.ApplicationID, "global")); err != nil {
		return nil, fmt.Errorf("streams: wipe global state: %w", err)
	}
	task, err := a.topo.NewGlobalTask(TaskConfig{
		ApplicationID:                   a.cfg.ApplicationID,
		Collector:                       noOutput{},
		TimestampExtractor:              a.cfg.TimestampExtractor,
		DeserializationExceptionHandler: a.cfg.DeserializationExceptionHandler,
		StateDir:                        a.cfg.StateDir,
		Logger:                          a.log.With("thread", "GlobalStreamThread"),
		OnDrop:                          a.countDropped,
	})
	if err != nil {
		return nil, err
	}
	g := &globalThread{app: a, task: task}
	if err := g.bootstrap(ctx, adm, topics); err != nil {
		task.Close()
		if g.cl != nil {
			g.cl.Close()
		}
		return nil, err
	}
	return g, nil
}

// bootstrap reads the global topics from the start to their current end.
func (g *globalThread) bootstrap(ctx context.Context, adm *kadm.Client, topics []string) error {
	a := g.app
	list := adm.ListEndOffsets
	opts := []kgo.Opt{
		kgo.ClientID(a.cfg.ApplicationID + "-" + a.processID + "-GlobalStreamThread"),
		kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.KeepControlRecords(),
	}
	if a.cfg.ProcessingGuarantee == ExactlyOnce {
		list = adm.ListCommittedOffsets
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	listed, err := list(ctx, topics...)
	if err != nil {
		return fmt.Errorf("streams: global topic end offsets: %w", err)
	}
	remaining := map[topicPart]int64{}
	var lerr error
	listed.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			lerr = fmt.Errorf("streams: global topic %s-%d: %w", o.Topic, o.Partition, o.Err)
		}
		if o.Offset > 0 {
			remaining[topicPart{o.Topic, o.Partition}] = o.Offset
		}
	})
	if lerr != nil {
		return lerr
	}
	if g.cl, err = kgo.NewClient(a.clientOpts(opts...)...); err != nil {
		return fmt.Errorf("streams: global consumer: %w", err)
	}
	began := time.Now()
	n := 0
	for len(remaining) > 0 {
		fs := g.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		got, err := g.apply(fs)
		if err != nil {
			return err
		}
		n += got
		fs.EachPartition(func(p kgo.FetchTopicPartition) {
			tp := topicPart{p.Topic, p.Partition}
			if end, ok := remaining[tp]; ok && len(p.Records) > 0 && p.Records[len(p.Records)-1].Offset >= end-1 {
				delete(remaining, tp)
			}
		})
	}
	a.log.Info("loaded global stores", "records", n, "elapsed", time.Since(began).String())
	return g.task.Commit()
}

// apply processes the data records of a poll.
func (g *globalThread) apply(fs kgo.Fetches) (int, error) {
	var ferr error
	fs.EachError(func(topic string, p int32, err error) {
		if ferr == nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			ferr = fmt.Errorf("streams: global topic %s-%d: %w", topic, p, err)
		}
	})
	if ferr != nil {
		return 0, ferr
	}
	n := 0
	var perr error
	fs.EachRecord(func(r *kgo.Record) {
		if perr != nil || r.Attrs.IsControl() {
			return
		}
		in := InputRecord{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Value, Timestamp: r.Timestamp.UnixMilli()}
		perr = g.task.Process(in)
		n++
	})
	return n, perr
}

// run keeps the global stores current until ctx ends.
func (g *globalThread) run(ctx context.Context) error {
	defer g.cl.Close()
	defer g.task.Close()
	last := time.Now()
	for {
		pctx, cancel := context.WithTimeout(ctx, g.app.cfg.PollInterval)
		fs := g.cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if _, err := g.apply(fs); err != nil {
			return err
		}
		if time.Since(last) >= g.app.cfg.CommitInterval {
			if err := g.task.Commit(); err != nil {
				return err
			}
			last = time.Now()
		}
	}
}
