package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const topicsSynopsis = "runnel topics --bootstrap-server HOST:PORT --create|--list|--describe|--alter|--delete [--topic T] [flags]"

// topicsOptions are the flags of runnel topics, named as in kafka-topics.sh.
type topicsOptions struct {
	bootstrap, commandConfig      string
	create, list, describe        bool
	alter, delete                 bool
	topic                         string
	partitions, replicationFactor int
	configs                       stringList
	ifExists, ifNotExists         bool
	excludeInternal               bool
	topicsWithOverrides           bool
	underReplicated, unavailable  bool
	underMinISR, atMinISR         bool
	partitionsSet, replicationSet bool
}

// runTopics is kafka-topics.sh: create, list, describe, alter (add
// partitions) and delete topics.
func runTopics(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	var o topicsOptions
	fs := newFlagSet("topics")
	fs.StringVar(&o.bootstrap, "bootstrap-server", "", "REQUIRED: the Kafka server(s) to connect to, HOST1:PORT1,HOST2:PORT2")
	fs.StringVar(&o.commandConfig, "command-config", "", "properties file with admin client configs")
	fs.BoolVar(&o.create, "create", false, "create a new topic")
	fs.BoolVar(&o.list, "list", false, "list all available topics")
	fs.BoolVar(&o.describe, "describe", false, "list details for the given topics")
	fs.BoolVar(&o.alter, "alter", false, "alter the number of partitions (configs are altered with 'runnel configs')")
	fs.BoolVar(&o.delete, "delete", false, "delete a topic")
	fs.StringVar(&o.topic, "topic", "", "the topic to create, alter, describe or delete; a regular expression except with --create")
	fs.IntVar(&o.partitions, "partitions", 0, "the number of partitions for the topic being created or altered (default: the cluster's num.partitions)")
	fs.IntVar(&o.replicationFactor, "replication-factor", 0, "the replication factor of the topic being created (default: the cluster's default.replication.factor)")
	fs.Var(&o.configs, "config", "a topic config override name=value for the topic being created (repeatable)")
	fs.BoolVar(&o.ifExists, "if-exists", false, "with --alter, --delete or --describe: act only if the topic exists")
	fs.BoolVar(&o.ifNotExists, "if-not-exists", false, "with --create: do not fail if the topic already exists")
	fs.BoolVar(&o.excludeInternal, "exclude-internal", false, "exclude internal topics when listing or describing")
	fs.BoolVar(&o.topicsWithOverrides, "topics-with-overrides", false, "with --describe: only show topics that have overridden configs")
	fs.BoolVar(&o.underReplicated, "under-replicated-partitions", false, "with --describe: only show under-replicated partitions")
	fs.BoolVar(&o.unavailable, "unavailable-partitions", false, "with --describe: only show partitions whose leader is not available")
	fs.BoolVar(&o.underMinISR, "under-min-isr-partitions", false, "with --describe: only show partitions whose ISR count is below min.insync.replicas")
	fs.BoolVar(&o.atMinISR, "at-min-isr-partitions", false, "with --describe: only show partitions whose ISR count equals min.insync.replicas")
	if err := parseFlags(fs, args, topicsSynopsis, stdout); err != nil {
		return err
	}
	o.partitionsSet = isSet(fs, "partitions")
	o.replicationSet = isSet(fs, "replication-factor")
	if err := o.validate(isSet(fs, "config")); err != nil {
		return err
	}

	cl, err := newClient(roleAdmin, o.bootstrap, o.commandConfig, nil, stderr)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	switch {
	case o.create:
		return createTopic(ctx, adm, &o, stdout)
	case o.list:
		return listTopics(ctx, adm, &o, stdout)
	case o.describe:
		return describeTopics(ctx, cl, adm, &o, stdout)
	case o.alter:
		return alterTopics(ctx, adm, &o)
	default:
		return deleteTopics(ctx, adm, &o)
	}
}

// validate applies kafka-topics.sh's rules on which flags go together.
func (o *topicsOptions) validate(configSet bool) error {
	actions := 0
	for _, a := range []bool{o.create, o.list, o.describe, o.alter, o.delete} {
		if a {
			actions++
		}
	}
	if actions != 1 {
		return usagef("command must include exactly one action: --list, --describe, --create, --alter or --delete")
	}
	if o.bootstrap == "" {
		return usagef("--bootstrap-server must be specified")
	}
	if !o.list && !o.describe && o.topic == "" {
		return usagef("missing required argument --topic")
	}
	only := func(set bool, flag string, allowed bool, with string) error {
		if set && !allowed {
			return usagef("option --%s can only be used with %s", flag, with)
		}
		return nil
	}
	reports := o.underReplicated || o.unavailable || o.underMinISR || o.atMinISR
	for _, err := range []error{
		only(configSet, "config", o.create, "--create (alter topic configs with 'runnel configs')"),
		only(o.partitionsSet, "partitions", o.create || o.alter, "--create or --alter"),
		only(o.replicationSet, "replication-factor", o.create, "--create"),
		only(o.ifExists, "if-exists", o.alter || o.delete || o.describe, "--alter, --delete or --describe"),
		only(o.ifNotExists, "if-not-exists", o.create, "--create"),
		only(o.excludeInternal, "exclude-internal", o.list || o.describe, "--list or --describe"),
		only(o.topicsWithOverrides, "topics-with-overrides", o.describe && !reports, "--describe and without a partition report option"),
		only(reports, "under-replicated-partitions", o.describe, "--describe"),
	} {
		if err != nil {
			return err
		}
	}
	if o.alter && !o.partitionsSet {
		return usagef("missing required argument --partitions")
	}
	if o.partitionsSet && o.partitions < 1 {
		return usagef("the partitions must be greater than 0")
	}
	if o.replicationSet && (o.replicationFactor < 1 || o.replicationFactor > 32767) {
		return usagef("the replication factor must be between 1 and 32767 inclusive")
	}
	return nil
}

// topicError turns a per-topic error from the broker into one line: the
// broker's own message when it sent one, else the Kafka error name and its
// description.
func topicError(err error, msg string) error {
	if err == nil {
		return nil
	}
	if msg != "" && !strings.Contains(err.Error(), msg) {
		return fmt.Errorf("%s (%w)", msg, err)
	}
	return err
}

// createTopic prints "Created topic T." as kafka-topics.sh does.
func createTopic(ctx context.Context, adm *kadm.Client, o *topicsOptions, stdout io.Writer) error {
	configs := map[string]*string{}
	for _, c := range o.configs {
		k, v, ok := strings.Cut(c, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return usagef("invalid topic config %q: all configs to be added must be in the format \"key=val\"", c)
		}
		configs[k] = &v
	}
	if strings.ContainsAny(o.topic, "._") {
		fmt.Fprintln(stdout, "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. To avoid issues it is best to use either, but not both.")
	}
	partitions, rf := int32(-1), int16(-1)
	if o.partitionsSet {
		partitions = int32(o.partitions)
	}
	if o.replicationSet {
		rf = int16(o.replicationFactor)
	}
	resp, err := adm.CreateTopic(ctx, partitions, rf, configs, o.topic)
	if err == nil {
		err = topicError(resp.Err, resp.ErrMessage)
	}
	if err != nil {
		if o.ifNotExists && errors.Is(err, kerr.TopicAlreadyExists) {
			return nil
		}
		if errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("Topic '%s' already exists.", o.topic) //nolint:staticcheck // Kafka's wording
		}
		return err
	}
	fmt.Fprintf(stdout, "Created topic %s.\n", o.topic)
	return nil
}

// matchTopics returns the sorted topics selected by o.topic (an include
// regular expression matched against the whole name, commas meaning "or", as
// in Kafka's tools) and --exclude-internal.
func matchTopics(ctx context.Context, adm *kadm.Client, o *topicsOptions) ([]string, kadm.TopicDetails, error) {
	all, err := adm.ListTopicsWithInternal(ctx)
	if err != nil {
		return nil, nil, err
	}
	var re *regexp.Regexp
	if o.topic != "" {
		expr := strings.ReplaceAll(strings.ReplaceAll(strings.TrimSpace(o.topic), ",", "|"), " ", "")
		expr = strings.Trim(expr, `"'`)
		re, err = regexp.Compile("^(?:" + expr + ")$")
		if err != nil {
			return nil, nil, usagef("invalid --topic pattern %q: %v", o.topic, err)
		}
	}
	var names []string
	for name, d := range all {
		if d.Err != nil {
			continue
		}
		if o.excludeInternal && isInternalTopic(name, d.IsInternal) {
			continue
		}
		if re != nil && !re.MatchString(name) {
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names, all, nil
}

// isInternalTopic reports Kafka's internal topics.
func isInternalTopic(name string, flagged bool) bool {
	return flagged || name == "__consumer_offsets" || name == "__transaction_state" || name == "__share_group_state"
}

// ensureTopicExists is kafka-topics.sh's check that a named topic matched.
func ensureTopicExists(found []string, o *topicsOptions) error {
	if o.topic != "" && len(found) == 0 && !o.ifExists {
		return fmt.Errorf("Topic '%s' does not exist as expected", o.topic) //nolint:staticcheck // Kafka's wording
	}
	return nil
}

func listTopics(ctx context.Context, adm *kadm.Client, o *topicsOptions, stdout io.Writer) error {
	names, _, err := matchTopics(ctx, adm, o)
	if err != nil {
		return err
	}
	// kafka-topics.sh joins the names with newlines and ends the line, so
	// an empty cluster prints one empty line.
	fmt.Fprintln(stdout, strings.Join(names, "\n"))
	return nil
}

// partitionInfo is one partition as kafka-topics.sh --describe prints it.
type partitionInfo struct {
	partition         int32
	leader            int32
	replicas, isr     []int32
	elr, lastKnownELR []int32
	hasELR            bool
}

// describeTopics prints kafka-topics.sh --describe's format: one header line
// per topic, then one tab-indented line per partition.
func describeTopics(ctx context.Context, cl *kgo.Client, adm *kadm.Client, o *topicsOptions, stdout io.Writer) error {
	names, details, err := matchTopics(ctx, adm, o)
	if err != nil {
		return err
	}
	if err := ensureTopicExists(names, o); err != nil {
		return err
	}
	if len(names) == 0 {
		return nil
	}
	parts, err := describePartitions(ctx, cl, names, details)
	if err != nil {
		return err
	}
	configs, err := adm.DescribeTopicConfigs(ctx, names...)
	if err != nil {
		return fmt.Errorf("describing topic configs: %w", err)
	}
	brokers, err := adm.ListBrokers(ctx)
	if err != nil {
		return err
	}
	live := map[int32]bool{}
	for _, b := range brokers {
		live[b.NodeID] = true
	}
	reports := o.underReplicated || o.unavailable || o.underMinISR || o.atMinISR
	for _, name := range names {
		rc, err := configs.On(name, nil)
		if err != nil {
			return fmt.Errorf("describing configs of topic %s: %w", name, err)
		}
		if err := topicError(rc.Err, rc.ErrMessage); err != nil {
			return fmt.Errorf("describing configs of topic %s: %w", name, err)
		}
		var overrides []string
		minISR := 1
		for _, c := range rc.Configs {
			if c.Key == "min.insync.replicas" {
				if n, err := strconv.Atoi(c.MaybeValue()); err == nil {
					minISR = n
				}
			}
			if c.Source != kmsg.ConfigSourceDefaultConfig {
				overrides = append(overrides, c.Key+"="+configValue(c.Value))
			}
		}
		sort.Strings(overrides)
		ps := parts[name]
		if len(ps) == 0 {
			continue
		}
		if !reports && (!o.topicsWithOverrides || len(overrides) > 0) {
			fmt.Fprintf(stdout, "Topic: %s", name)
			if id := details[name].ID; id != (kadm.TopicID{}) {
				fmt.Fprintf(stdout, "\tTopicId: %s", formatUUID(id))
			}
			fmt.Fprintf(stdout, "\tPartitionCount: %d\tReplicationFactor: %d\tConfigs: %s\n",
				len(ps), len(ps[0].replicas), strings.Join(overrides, ","))
		}
		if o.topicsWithOverrides {
			continue
		}
		for _, p := range ps {
			show := !reports ||
				o.underReplicated && len(p.replicas) > len(p.isr) ||
				o.unavailable && (p.leader < 0 || !live[p.leader]) ||
				o.underMinISR && (p.leader < 0 || len(p.isr) < minISR) ||
				o.atMinISR && len(p.isr) == minISR
			if show {
				fmt.Fprintln(stdout, formatPartition(name, p))
			}
		}
	}
	return nil
}

// formatPartition renders one partition line of kafka-topics.sh --describe.
func formatPartition(topic string, p partitionInfo) string {
	var b strings.Builder
	leader := "none"
	if p.leader >= 0 {
		leader = strconv.Itoa(int(p.leader))
	}
	fmt.Fprintf(&b, "\tTopic: %s\tPartition: %d\tLeader: %s\tReplicas: %s\tIsr: %s",
		topic, p.partition, leader, joinIDs(p.replicas), joinIDs(p.isr))
	if p.hasELR {
		fmt.Fprintf(&b, "\tElr: %s\tLastKnownElr: %s", joinIDs(p.elr), joinIDs(p.lastKnownELR))
	} else {
		b.WriteString("\tElr: N/A\tLastKnownElr: N/A")
	}
	return b.String()
}

func joinIDs(ids []int32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(int(id))
	}
	return strings.Join(s, ",")
}

// formatUUID renders a topic ID the way Kafka prints a Uuid: URL-safe
// base64 without padding (22 characters).
func formatUUID(id [16]byte) string {
	return base64.RawURLEncoding.EncodeToString(id[:])
}

// configValue renders a config value as Kafka's tools print a Java null.
func configValue(v *string) string {
	if v == nil {
		return "null"
	}
	return *v
}

// describePartitions returns each topic's partitions in order. It asks with
// DescribeTopicPartitions (KIP-966), which carries the eligible leader
// replicas, and falls back to Metadata (printing "Elr: N/A" as Kafka does)
// when the cluster does not support it.
func describePartitions(ctx context.Context, cl *kgo.Client, names []string, details kadm.TopicDetails) (map[string][]partitionInfo, error) {
	out, err := describeTopicPartitions(ctx, cl, names)
	if err == nil {
		return out, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	out = make(map[string][]partitionInfo, len(names))
	for _, name := range names {
		for _, p := range details[name].Partitions.Sorted() {
			out[name] = append(out[name], partitionInfo{
				partition: p.Partition, leader: p.Leader,
				replicas: p.Replicas, isr: p.ISR,
			})
		}
	}
	return out, nil
}

// describeTopicPartitions pages through DescribeTopicPartitions.
func describeTopicPartitions(ctx context.Context, cl *kgo.Client, names []string) (map[string][]partitionInfo, error) {
	out := make(map[string][]partitionInfo, len(names))
	req := kmsg.NewPtrDescribeTopicPartitionsRequest()
	req.ResponsePartitionLimit = 2000
	for _, n := range names {
		t := kmsg.NewDescribeTopicPartitionsRequestTopic()
		t.Topic = n
		req.Topics = append(req.Topics, t)
	}
	for range 10000 {
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return nil, err
		}
		for _, t := range resp.Topics {
			if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
				return nil, err
			}
			name := ""
			if t.Topic != nil {
				name = *t.Topic
			}
			for _, p := range t.Partitions {
				out[name] = append(out[name], partitionInfo{
					partition: p.Partition, leader: p.LeaderID,
					replicas: p.Replicas, isr: p.ISR,
					elr: p.EligibleLeaderReplicas, lastKnownELR: p.LastKnownELR,
					hasELR: true,
				})
			}
		}
		if resp.NextCursor == nil {
			for _, ps := range out {
				slices.SortFunc(ps, func(a, b partitionInfo) int { return int(a.partition - b.partition) })
			}
			return out, nil
		}
		req.Cursor = &kmsg.DescribeTopicPartitionsRequestCursor{Topic: resp.NextCursor.Topic, Partition: resp.NextCursor.Partition}
	}
	return nil, errors.New("describe topic partitions: too many pages")
}

// alterTopics raises the partition count of the matched topics.
func alterTopics(ctx context.Context, adm *kadm.Client, o *topicsOptions) error {
	names, _, err := matchTopics(ctx, adm, o)
	if err != nil {
		return err
	}
	if err := ensureTopicExists(names, o); err != nil {
		return err
	}
	if len(names) == 0 {
		return nil
	}
	resps, err := adm.UpdatePartitions(ctx, o.partitions, names...)
	if err != nil {
		return err
	}
	for _, name := range names {
		r, ok := resps[name]
		if !ok {
			return fmt.Errorf("no response for topic %s", name)
		}
		if err := topicError(r.Err, r.ErrMessage); err != nil {
			return err
		}
	}
	return nil
}

// deleteTopics deletes the matched topics.
func deleteTopics(ctx context.Context, adm *kadm.Client, o *topicsOptions) error {
	names, _, err := matchTopics(ctx, adm, o)
	if err != nil {
		return err
	}
	if err := ensureTopicExists(names, o); err != nil {
		return err
	}
	if len(names) == 0 {
		return nil
	}
	resps, err := adm.DeleteTopics(ctx, names...)
	if err != nil {
		return err
	}
	for _, name := range names {
		r, ok := resps[name]
		if !ok {
			return fmt.Errorf("no response for topic %s", name)
		}
		if err := topicError(r.Err, r.ErrMessage); err != nil {
			return fmt.Errorf("deleting topic %s: %w", name, err)
		}
	}
	return nil
}

// isUnknownTopic reports UNKNOWN_TOPIC_OR_PARTITION.
func isUnknownTopic(err error) bool { return errors.Is(err, kerr.UnknownTopicOrPartition) }
