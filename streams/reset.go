package streams

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrGroupNotEmpty is returned (wrapped) by Reset while members of the
// application's group are still running.
var ErrGroupNotEmpty = errors.New("streams: the application's consumer group is not empty")

// ResetConfig configures Reset, with the flags of Kafka's
// kafka-streams-application-reset.sh in the field comments.
type ResetConfig struct {
	// BootstrapServers are the cluster's host:port pairs.
	// --bootstrap-server
	BootstrapServers []string
	// ApplicationID is the application (and consumer group) to reset.
	// --application-id
	ApplicationID string
	// InputTopics are reset to their earliest offsets (or latest with
	// ToLatest). --input-topics
	InputTopics []string
	// IntermediateTopics (user topics written and read back with To and
	// Stream) are skipped to their end. --intermediate-topics
	IntermediateTopics []string
	// ToLatest resets input topics to the latest offset instead of the
	// earliest (--to-latest; --to-earliest is the default).
	ToLatest bool
	// DryRun reports what would happen without changing anything.
	// --dry-run
	DryRun bool
	// ClientOptions are extra franz-go options (TLS, SASL, …).
	ClientOptions []kgo.Opt
}

// ResetResult is what Reset did (or, with DryRun, would do).
type ResetResult struct {
	// InputOffsets are the new committed offsets of the input topics.
	InputOffsets map[string]map[int32]int64
	// IntermediateOffsets are the new offsets of the intermediate topics.
	IntermediateOffsets map[string]map[int32]int64
	// DeletedTopics are the internal topics deleted.
	DeletedTopics []string
}

// IsInternalTopic reports whether topic is an internal topic of the
// application: <application.id>-…-changelog or -repartition (and the
// foreign-key join subscription topics), as Kafka's reset tool infers them.
func IsInternalTopic(applicationID, topic string) bool {
	if !strings.HasPrefix(topic, applicationID+"-") {
		return false
	}
	for _, suffix := range []string{"-changelog", "-repartition", "-subscription-registration-topic", "-subscription-response-topic"} {
		if strings.HasSuffix(topic, suffix) {
			return true
		}
	}
	return false
}

// Reset makes an application start over, as kafka-streams-application-reset
// does: with its group empty, the committed offsets of the input topics go
// to the earliest offset (intermediate topics to the end) and the internal
// topics are deleted. Local state is not touched; remove it with
// App.CleanUp (or delete state.dir/<application.id>) before the next run.
func Reset(ctx context.Context, cfg ResetConfig) (ResetResult, error) {
	var res ResetResult
	if cfg.ApplicationID == "" {
		return res, fmt.Errorf("%w: application.id: required", ErrConfig)
	}
	if len(cfg.BootstrapServers) == 0 {
		return res, fmt.Errorf("%w: bootstrap.servers: required", ErrConfig)
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(cfg.BootstrapServers...)}, cfg.ClientOptions...)...)
	if err != nil {
		return res, fmt.Errorf("streams: reset: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	group := cfg.ApplicationID

	described, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		return res, fmt.Errorf("streams: reset: describe group %q: %w", group, err)
	}
	if g, ok := described[group]; ok && g.Err == nil && len(g.Members) > 0 {
		return res, fmt.Errorf("%w: %q has %d active members (state %s); stop every instance first", ErrGroupNotEmpty, group, len(g.Members), g.State)
	}

	topics, err := adm.ListTopics(ctx)
	if err != nil {
		return res, fmt.Errorf("streams: reset: list topics: %w", err)
	}
	for _, tp := range append(slices.Clone(cfg.InputTopics), cfg.IntermediateTopics...) {
		if !topics.Has(tp) {
			return res, fmt.Errorf("streams: reset: topic %q does not exist", tp)
		}
	}
	offsetsAt := func(list func(context.Context, ...string) (kadm.ListedOffsets, error), names []string) (map[string]map[int32]int64, error) {
		out := map[string]map[int32]int64{}
		if len(names) == 0 {
			return out, nil
		}
		listed, err := list(ctx, names...)
		if err != nil {
			return nil, err
		}
		var lerr error
		listed.Each(func(o kadm.ListedOffset) {
			if o.Err != nil {
				lerr = fmt.Errorf("%s-%d: %w", o.Topic, o.Partition, o.Err)
				return
			}
			if out[o.Topic] == nil {
				out[o.Topic] = map[int32]int64{}
			}
			out[o.Topic][o.Partition] = o.Offset
		})
		return out, lerr
	}
	inputList := adm.ListStartOffsets
	if cfg.ToLatest {
		inputList = adm.ListEndOffsets
	}
	if res.InputOffsets, err = offsetsAt(inputList, cfg.InputTopics); err != nil {
		return res, fmt.Errorf("streams: reset: input topic offsets: %w", err)
	}
	if res.IntermediateOffsets, err = offsetsAt(adm.ListEndOffsets, cfg.IntermediateTopics); err != nil {
		return res, fmt.Errorf("streams: reset: intermediate topic offsets: %w", err)
	}
	for _, name := range topics.Names() {
		if IsInternalTopic(cfg.ApplicationID, name) {
			res.DeletedTopics = append(res.DeletedTopics, name)
		}
	}
	slices.Sort(res.DeletedTopics)
	if cfg.DryRun {
		return res, nil
	}

	commit := kadm.Offsets{}
	for _, m := range []map[string]map[int32]int64{res.InputOffsets, res.IntermediateOffsets} {
		for tp, parts := range m {
			for p, off := range parts {
				commit.Add(kadm.Offset{Topic: tp, Partition: p, At: off, LeaderEpoch: -1})
			}
		}
	}
	if len(commit) > 0 {
		if err := adm.CommitAllOffsets(ctx, group, commit); err != nil {
			return res, fmt.Errorf("streams: reset: commit offsets of group %q: %w", group, err)
		}
	}
	if len(res.DeletedTopics) > 0 {
		resps, err := adm.DeleteTopics(ctx, res.DeletedTopics...)
		if err == nil {
			err = resps.Error()
		}
		if err != nil {
			return res, fmt.Errorf("streams: reset: delete internal topics: %w", err)
		}
	}
	return res, nil
}
