package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const groupsSynopsis = "runnel groups --bootstrap-server HOST:PORT --list|--describe|--delete|--reset-offsets|--delete-offsets [--group G...|--all-groups] [flags]"

// missingColumn is what kafka-consumer-groups.sh prints for a value it does
// not have (no committed offset, no member, unknown end offset).
const missingColumn = "-"

// groupsOptions are the flags of runnel groups, named as in
// kafka-consumer-groups.sh.
type groupsOptions struct {
	bootstrap, commandConfig string
	timeout                  time.Duration

	list, describe, delete      bool
	resetOffsets, deleteOffsets bool
	validateRegex               string
	validateRegexSet            bool

	groups    stringList
	allGroups bool
	topics    stringList
	allTopics bool

	members, verbose, offsets bool
	state, types              string
	stateSet, typeSet         bool

	dryRun, execute, export bool
	toOffset, shiftBy       int64
	toDatetime, byDuration  string
	fromFile                string
	toEarliest, toLatest    bool
	toCurrent               bool
	toOffsetSet, shiftBySet bool

	// Parsed forms of the flags above.
	stateFilter []string
	typeFilter  []string
	datetime    int64         // --to-datetime in Unix milliseconds
	duration    time.Duration // --by-duration
}

// runGroups is kafka-consumer-groups.sh: list and describe consumer groups,
// reset and delete their committed offsets, delete groups.
func runGroups(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	var o groupsOptions
	var timeoutMs int64
	fs := newFlagSet("groups")
	fs.StringVar(&o.bootstrap, "bootstrap-server", "", "REQUIRED: the Kafka server(s) to connect to, HOST1:PORT1,HOST2:PORT2")
	fs.StringVar(&o.commandConfig, "command-config", "", "properties file with admin client configs")
	fs.Int64Var(&timeoutMs, "timeout", 5000, "how long in milliseconds a request to the cluster may take, retries included")
	fs.BoolVar(&o.list, "list", false, "list all consumer groups")
	fs.BoolVar(&o.describe, "describe", false, "describe consumer groups and list offset lag (number of records not yet processed)")
	fs.BoolVar(&o.delete, "delete", false, "delete consumer groups: their committed offsets and ownership information")
	fs.BoolVar(&o.resetOffsets, "reset-offsets", false, "reset the committed offsets of inactive consumer groups (see the reset scenarios)")
	fs.BoolVar(&o.deleteOffsets, "delete-offsets", false, "delete the committed offsets of one consumer group for the given topics")
	fs.StringVar(&o.validateRegex, "validate-regex", "", "check that a regular expression for a regex subscription compiles")
	fs.Var(&o.groups, "group", "the consumer group to act on (repeatable)")
	fs.BoolVar(&o.allGroups, "all-groups", false, "act on all consumer groups")
	fs.Var(&o.topics, "topic", "a topic to reset or whose offsets to delete; topic:0,1,2 names partitions (repeatable)")
	fs.BoolVar(&o.allTopics, "all-topics", false, "with --reset-offsets: every topic the group has committed offsets for")
	fs.BoolVar(&o.members, "members", false, "with --describe: describe the members of the group")
	fs.BoolVar(&o.verbose, "verbose", false, "with --describe: more columns (leader epochs, assignments, epochs)")
	fs.BoolVar(&o.offsets, "offsets", false, "with --describe: every partition with its offsets and lag (the default)")
	fs.StringVar(&o.state, "state", "", "with --describe: the group's state; with --list: show states, or only groups in the given comma-separated states")
	fs.StringVar(&o.types, "type", "", "with --list: show group types, or only groups of the given comma-separated types (classic, consumer)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "with --reset-offsets: only show the new offsets (the default)")
	fs.BoolVar(&o.execute, "execute", false, "with --reset-offsets: commit the new offsets")
	fs.BoolVar(&o.export, "export", false, "with --reset-offsets: print the new offsets as CSV, for --from-file")
	fs.Int64Var(&o.toOffset, "to-offset", 0, "reset offsets to this offset")
	fs.Int64Var(&o.shiftBy, "shift-by", 0, "reset offsets to the committed offset shifted by n, which may be negative")
	fs.StringVar(&o.toDatetime, "to-datetime", "", "reset offsets to the first record at or after YYYY-MM-DDTHH:mm:SS.sss[zone] (UTC without a zone)")
	fs.StringVar(&o.byDuration, "by-duration", "", "reset offsets to the first record at or after now minus a duration PnDTnHnMnS")
	fs.StringVar(&o.fromFile, "from-file", "", "reset offsets to the values in a CSV file (topic,partition,offset or group,topic,partition,offset)")
	fs.BoolVar(&o.toEarliest, "to-earliest", false, "reset offsets to the earliest offset")
	fs.BoolVar(&o.toLatest, "to-latest", false, "reset offsets to the latest offset")
	fs.BoolVar(&o.toCurrent, "to-current", false, "reset offsets to the committed offset (the latest offset where none is committed)")
	if err := parseFlags(fs, joinOptionalValues(args, "state", "type"), groupsSynopsis, stdout); err != nil {
		return err
	}
	o.validateRegexSet = isSet(fs, "validate-regex")
	o.stateSet = isSet(fs, "state")
	o.typeSet = isSet(fs, "type")
	o.toOffsetSet = isSet(fs, "to-offset")
	o.shiftBySet = isSet(fs, "shift-by")
	if timeoutMs <= 0 {
		return usagef("--timeout must be a positive number of milliseconds")
	}
	o.timeout = time.Duration(timeoutMs) * time.Millisecond
	if err := o.validate(); err != nil {
		return err
	}

	if o.validateRegexSet {
		// Regex subscriptions (KIP-848) use RE2 syntax, as Go does.
		if _, err := regexp.Compile(o.validateRegex); err != nil {
			fmt.Fprintf(stdout, "The regular expression `%s` is invalid: %s.\n", o.validateRegex, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		} else {
			fmt.Fprintf(stdout, "The regular expression `%s` is valid.\n", o.validateRegex)
		}
		return nil
	}
	if o.resetOffsets && !o.dryRun && !o.execute {
		fmt.Fprintln(stderr, "WARN: No action will be performed as the --execute option is missing. "+
			"Add --dry-run explicitly to keep this behaviour if you are scripting this command.")
	}

	cl, err := newClient(roleAdmin, o.bootstrap, o.commandConfig, nil, stderr, kgo.RetryTimeout(o.timeout))
	if err != nil {
		return err
	}
	defer cl.Close()
	g := &groupsCommand{o: &o, cl: cl, adm: kadm.NewClient(cl), stdout: stdout, stderr: stderr, now: time.Now}
	switch {
	case o.list:
		return g.list(ctx)
	case o.describe:
		return g.describeGroups(ctx)
	case o.delete:
		return g.deleteGroups(ctx)
	case o.resetOffsets:
		return g.reset(ctx)
	default:
		return g.deleteGroupOffsets(ctx)
	}
}

// joinOptionalValues rewrites "--name value" into "--name=value" and a bare
// "--name" into "--name=" for the named flags, which take an optional value
// in kafka-consumer-groups.sh (--state and --type). The next argument is
// the value unless it starts with "-".
func joinOptionalValues(args []string, names ...string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		name := strings.TrimLeft(a, "-")
		if !strings.HasPrefix(a, "-") || strings.Contains(name, "=") || !slices.Contains(names, name) {
			out = append(out, a)
			continue
		}
		if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			out = append(out, a+"="+args[i+1])
			i++
			continue
		}
		out = append(out, a+"=")
	}
	return out
}

// resetScenarios are the mutually exclusive ways --reset-offsets picks new
// offsets, in the order Kafka's usage lists them.
var resetScenarioNames = []string{"to-datetime", "by-duration", "to-earliest", "to-latest", "shift-by", "from-file", "to-current", "to-offset"}

// scenarios returns the reset scenario flags that were given.
func (o *groupsOptions) scenarios() []string {
	given := map[string]bool{
		"to-datetime": o.toDatetime != "",
		"by-duration": o.byDuration != "",
		"to-earliest": o.toEarliest,
		"to-latest":   o.toLatest,
		"shift-by":    o.shiftBySet,
		"from-file":   o.fromFile != "",
		"to-current":  o.toCurrent,
		"to-offset":   o.toOffsetSet,
	}
	var out []string
	for _, n := range resetScenarioNames {
		if given[n] {
			out = append(out, n)
		}
	}
	return out
}

// validate applies kafka-consumer-groups.sh's rules on which flags go
// together and parses the flag values that have a format.
func (o *groupsOptions) validate() error {
	actions := 0
	for _, a := range []bool{o.list, o.describe, o.delete, o.resetOffsets, o.deleteOffsets, o.validateRegexSet} {
		if a {
			actions++
		}
	}
	if actions != 1 {
		return usagef("command must include exactly one action: --list, --describe, --delete, --reset-offsets, --delete-offsets, --validate-regex")
	}
	if o.validateRegexSet {
		return nil
	}
	if o.bootstrap == "" {
		return usagef("--bootstrap-server must be specified")
	}
	only := func(set bool, flag string, allowed bool, with string) error {
		if set && !allowed {
			return usagef("option --%s can only be used with %s", flag, with)
		}
		return nil
	}
	scenarios := o.scenarios()
	for _, err := range []error{
		only(len(o.groups) > 0, "group", o.describe || o.delete || o.resetOffsets || o.deleteOffsets, "--describe, --delete, --reset-offsets or --delete-offsets"),
		only(o.allGroups, "all-groups", o.describe || o.delete || o.resetOffsets, "--describe, --delete or --reset-offsets"),
		only(o.allTopics, "all-topics", o.resetOffsets, "--reset-offsets"),
		only(o.members, "members", o.describe, "--describe"),
		only(o.offsets, "offsets", o.describe, "--describe"),
		only(o.verbose, "verbose", o.describe, "--describe"),
		only(o.stateSet, "state", o.describe || o.list, "--describe or --list"),
		only(o.typeSet, "type", o.list, "--list"),
		only(o.dryRun, "dry-run", o.resetOffsets, "--reset-offsets"),
		only(o.execute, "execute", o.resetOffsets, "--reset-offsets"),
		only(o.export, "export", o.resetOffsets, "--reset-offsets"),
		only(len(scenarios) > 0, firstOr(scenarios, ""), o.resetOffsets, "--reset-offsets"),
	} {
		if err != nil {
			return err
		}
	}
	if len(o.groups) > 0 && o.allGroups {
		return usagef("option --group can't be used with option --all-groups")
	}
	if len(o.topics) > 0 && (o.list || o.describe) {
		return usagef("option --topic can't be used with option --list or --describe")
	}
	needGroups := func(action string) error {
		if len(o.groups) == 0 && !o.allGroups {
			return usagef("option --%s takes one of these options: --all-groups, --group", action)
		}
		return nil
	}
	switch {
	case o.list:
		var err error
		if o.state != "" {
			if o.stateFilter, err = parseGroupStates(o.state); err != nil {
				return err
			}
		}
		if o.types != "" {
			if o.typeFilter, err = parseGroupTypes(o.types); err != nil {
				return err
			}
		}
	case o.describe:
		if err := needGroups("describe"); err != nil {
			return err
		}
		sub := 0
		for _, s := range []bool{o.members, o.offsets, o.stateSet} {
			if s {
				sub++
			}
		}
		if sub > 1 {
			return usagef("option --describe takes at most one of these options: --members, --offsets, --state")
		}
		if o.state != "" {
			return usagef("option --describe does not take a value for --state")
		}
	case o.delete:
		if err := needGroups("delete"); err != nil {
			return err
		}
		if len(o.topics) > 0 {
			return usagef("the consumer does not support topic-specific offset deletion from a consumer group; use --delete-offsets")
		}
	case o.deleteOffsets:
		if len(o.groups) == 0 || len(o.topics) == 0 {
			return usagef("option --delete-offsets takes the following options: --group, --topic")
		}
		if len(o.groups) > 1 {
			return usagef("option --delete-offsets supports one consumer group at a time")
		}
	case o.resetOffsets:
		if o.dryRun && o.execute {
			return usagef("option --reset-offsets only accepts one of --execute and --dry-run")
		}
		if err := needGroups("reset-offsets"); err != nil {
			return err
		}
		switch len(scenarios) {
		case 0:
			return usagef("option --reset-offsets requires one of the following scenarios: --%s", strings.Join(resetScenarioNames, ", --"))
		case 1:
		default:
			return usagef("option --%s can't be used with option --%s", scenarios[0], scenarios[1])
		}
		if o.allTopics && len(o.topics) > 0 {
			return usagef("option --all-topics can't be used with option --topic")
		}
		if !o.allTopics && len(o.topics) == 0 && o.fromFile == "" {
			return usagef("one of the reset scopes should be defined: --all-topics, --topic")
		}
		for _, t := range o.topics {
			if _, err := parseTopicArg(t); err != nil {
				return usagef("%v", err)
			}
		}
		var err error
		if o.toDatetime != "" {
			if o.datetime, err = parseResetDatetime(o.toDatetime); err != nil {
				return usagef("invalid --to-datetime: %v", err)
			}
		}
		if o.byDuration != "" {
			if o.duration, err = parseISODuration(o.byDuration); err != nil {
				return usagef("invalid --by-duration: %v", err)
			}
		}
	}
	if o.deleteOffsets {
		for _, t := range o.topics {
			if _, err := parseTopicArg(t); err != nil {
				return usagef("%v", err)
			}
		}
	}
	return nil
}

func firstOr(s []string, def string) string {
	if len(s) == 0 {
		return def
	}
	return s[0]
}

// consumerGroupStates are Kafka's names of the states a consumer group can
// be in (classic and KIP-848 groups), in the order the usage lists them.
var consumerGroupStates = []string{"PreparingRebalance", "CompletingRebalance", "Stable", "Dead", "Empty", "Assigning", "Reconciling"}

// parseGroupStates parses --list --state's comma-separated, case-insensitive
// state names into Kafka's spelling.
func parseGroupStates(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		i := slices.IndexFunc(consumerGroupStates, func(st string) bool { return strings.EqualFold(st, p) })
		if i < 0 {
			return nil, usagef("invalid state list '%s'. Valid states are: %s", s, strings.Join(consumerGroupStates, ", "))
		}
		if !slices.Contains(out, consumerGroupStates[i]) {
			out = append(out, consumerGroupStates[i])
		}
	}
	return out, nil
}

// parseGroupTypes parses --list --type's comma-separated, case-insensitive
// group types into Kafka's spelling.
func parseGroupTypes(s string) ([]string, error) {
	valid := []string{"Classic", "Consumer"}
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		i := slices.IndexFunc(valid, func(t string) bool { return strings.EqualFold(t, p) })
		if i < 0 {
			return nil, usagef("invalid types list '%s'. Valid types are: classic, consumer", s)
		}
		if !slices.Contains(out, valid[i]) {
			out = append(out, valid[i])
		}
	}
	return out, nil
}

// topicPartition is one partition of a topic.
type topicPartition struct {
	topic     string
	partition int32
}

// String is Kafka's TopicPartition spelling, "topic-partition".
func (tp topicPartition) String() string { return tp.topic + "-" + strconv.Itoa(int(tp.partition)) }

func compareTopicPartitions(a, b topicPartition) int {
	if c := strings.Compare(a.topic, b.topic); c != 0 {
		return c
	}
	return int(a.partition) - int(b.partition)
}

// topicArg is one --topic value: a topic and, after a colon, the listed
// partitions (nil when none were listed: all of the topic's partitions).
type topicArg struct {
	topic      string
	partitions []int32
}

// parseTopicArg parses "topic" or "topic:0,1,2".
func parseTopicArg(s string) (topicArg, error) {
	if !strings.Contains(s, ":") {
		if s == "" {
			return topicArg{}, errors.New("invalid topic arg '': expected a topic name")
		}
		return topicArg{topic: s}, nil
	}
	parts := strings.Split(s, ":")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return topicArg{}, fmt.Errorf("invalid topic arg '%s', expected topic name and partitions", s)
	}
	a := topicArg{topic: parts[0]}
	for _, p := range strings.Split(parts[1], ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 32)
		if err != nil || n < 0 {
			return topicArg{}, fmt.Errorf("invalid partition '%s' specified in topic arg '%s'", p, s)
		}
		a.partitions = append(a.partitions, int32(n))
	}
	return a, nil
}

// groupsCommand runs one action of runnel groups against a cluster.
type groupsCommand struct {
	o              *groupsOptions
	cl             *kgo.Client
	adm            *kadm.Client
	stdout, stderr io.Writer
	now            func() time.Time
}

// retriable reports whether err is an error Kafka's clients retry, such
// as a group coordinator that is loading, moving or not yet available
// (__consumer_offsets is created on first use). Shard errors are retriable
// when each shard's is.
func retriable(err error) bool {
	if se, ok := errors.AsType[*kadm.ShardErrors](err); ok {
		for _, e := range se.Errs {
			if !retriable(e.Err) {
				return false
			}
		}
		return len(se.Errs) > 0
	}
	return kerr.IsRetriable(err)
}

// retry runs op until it succeeds, fails with an error that is not
// retriable, or --timeout has passed, and returns op's last error. Kafka's
// admin client retries a coordinator error within its timeout; franz-go's
// sharded requests return one from FindCoordinator at once.
func (g *groupsCommand) retry(ctx context.Context, op func() error) error {
	deadline := time.Now().Add(g.o.timeout)
	backoff := 50 * time.Millisecond
	for {
		err := op()
		if err == nil || !retriable(err) || time.Now().Add(backoff).After(deadline) {
			return err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		backoff = min(2*backoff, time.Second)
	}
}

// fetchOffsets returns a group's committed offsets.
func (g *groupsCommand) fetchOffsets(ctx context.Context, group string) (kadm.OffsetResponses, error) {
	var offs kadm.OffsetResponses
	err := g.retry(ctx, func() (err error) {
		offs, err = g.adm.FetchOffsets(ctx, group)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("fetching committed offsets of group %s: %w", group, err)
	}
	return offs, nil
}

// groupListing is one group as ListGroups reports it.
type groupListing struct {
	group, protocolType, state, groupType string
}

// listConsumerGroups lists the consumer groups of every broker, sorted by
// name: classic groups of protocol type "consumer" (or none yet) and
// KIP-848 consumer groups, as Kafka's tool lists them.
func (g *groupsCommand) listConsumerGroups(ctx context.Context) ([]groupListing, error) {
	var shards []kgo.ResponseShard
	err := g.retry(ctx, func() error {
		shards = g.cl.RequestSharded(ctx, kmsg.NewPtrListGroupsRequest())
		for _, shard := range shards {
			if shard.Err != nil {
				return shard.Err
			}
			if err := kerr.ErrorForCode(shard.Resp.(*kmsg.ListGroupsResponse).ErrorCode); err != nil {
				return fmt.Errorf("broker %d: %w", shard.Meta.NodeID, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing groups: %w", err)
	}
	var out []groupListing
	seen := map[string]bool{}
	for _, shard := range shards {
		resp := shard.Resp.(*kmsg.ListGroupsResponse)
		for _, lg := range resp.Groups {
			if seen[lg.Group] || (lg.ProtocolType != "consumer" && lg.ProtocolType != "") {
				continue
			}
			typ := lg.GroupType
			if typ == "" {
				// A broker older than ListGroups v5 reports no type; it
				// has only classic groups.
				typ = "Classic"
			}
			seen[lg.Group] = true
			out = append(out, groupListing{group: lg.Group, protocolType: lg.ProtocolType, state: lg.GroupState, groupType: canonicalGroupType(typ)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].group < out[j].group })
	return out, nil
}

// canonicalGroupType spells a group type as Kafka prints it.
func canonicalGroupType(t string) string {
	for _, v := range []string{"Classic", "Consumer", "Share", "Streams"} {
		if strings.EqualFold(v, t) {
			return v
		}
	}
	return "Unknown"
}

// targetGroups returns the groups an action applies to: --group in the
// order given, or every consumer group with --all-groups.
func (g *groupsCommand) targetGroups(ctx context.Context) ([]string, error) {
	if !g.o.allGroups {
		var out []string
		for _, grp := range g.o.groups {
			if !slices.Contains(out, grp) {
				out = append(out, grp)
			}
		}
		return out, nil
	}
	listed, err := g.listConsumerGroups(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(listed))
	for i, l := range listed {
		out[i] = l.group
	}
	return out, nil
}

// list prints the group names, or with --state or --type a table of them.
func (g *groupsCommand) list(ctx context.Context) error {
	listed, err := g.listConsumerGroups(ctx)
	if err != nil {
		return err
	}
	if !g.o.stateSet && !g.o.typeSet {
		for _, l := range listed {
			fmt.Fprintln(g.stdout, l.group)
		}
		return nil
	}
	var keep []groupListing
	for _, l := range listed {
		if len(g.o.stateFilter) > 0 && !slices.ContainsFunc(g.o.stateFilter, func(s string) bool { return strings.EqualFold(s, l.state) }) {
			continue
		}
		if len(g.o.typeFilter) > 0 && !slices.Contains(g.o.typeFilter, l.groupType) {
			continue
		}
		keep = append(keep, l)
	}
	writeGroupList(g.stdout, keep, g.o.typeSet, g.o.stateSet)
	return nil
}

// writeGroupList prints kafka-consumer-groups.sh's --list table with the
// TYPE and STATE columns asked for.
func writeGroupList(w io.Writer, groups []groupListing, withType, withState bool) {
	width := 15
	for _, l := range groups {
		width = max(width, len(l.group))
	}
	width += 10
	row := func(group, typ, state string) {
		line := pad(group, width)
		if withType {
			line += " " + pad(typ, 20)
		}
		if withState {
			line += " " + pad(state, 20)
		}
		fmt.Fprintln(w, line)
	}
	row("GROUP", "TYPE", "STATE")
	for _, l := range groups {
		state := l.state
		if state == "" {
			state = "Unknown"
		}
		row(l.group, l.groupType, state)
	}
}

// pad left-aligns s in a column of width characters, as Java's %-Ns.
func pad(s string, width int) string {
	return fmt.Sprintf("%-*s", width, s)
}

// groupDescription is what describe and reset need to know of one group.
type groupDescription struct {
	kadm.DescribedGroup
	exists bool
}

// describe describes groups. A group the coordinator does not know is
// reported as Dead and not existing, whichever way the broker says so.
func (g *groupsCommand) describe(ctx context.Context, groups []string) (map[string]groupDescription, error) {
	out := make(map[string]groupDescription, len(groups))
	if len(groups) == 0 {
		return out, nil
	}
	var described kadm.DescribedGroups
	err := g.retry(ctx, func() (err error) {
		if described, err = g.adm.DescribeGroups(ctx, groups...); err != nil {
			return err
		}
		for _, d := range described {
			if retriable(d.Err) {
				return fmt.Errorf("group %s: %w", d.Group, d.Err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("describing groups: %w", err)
	}
	for _, grp := range groups {
		d, ok := described[grp]
		switch {
		case !ok || errors.Is(d.Err, kerr.GroupIDNotFound):
			out[grp] = groupDescription{DescribedGroup: kadm.DescribedGroup{Group: grp, State: "Dead"}}
		case d.Err != nil:
			return nil, fmt.Errorf("describing group %s: %w", grp, topicError(d.Err, d.ErrMessage))
		case d.ProtocolType != "consumer" && d.ProtocolType != "":
			return nil, fmt.Errorf("group '%s' is not a consumer group (protocol type %s)", grp, d.ProtocolType)
		default:
			out[grp] = groupDescription{DescribedGroup: d, exists: d.State != "Dead"}
		}
	}
	return out, nil
}

// errGroupMissing collects the groups --describe found not to exist.
type errGroupMissing []string

func (e errGroupMissing) Error() string {
	msgs := make([]string, len(e))
	for i, grp := range e {
		msgs[i] = fmt.Sprintf("Consumer group '%s' does not exist.", grp)
	}
	return strings.Join(msgs, " ")
}

// reportState writes kafka-consumer-groups.sh's note on a group's state to
// stderr and reports whether the group's table should be printed; rows is
// the number of table rows. A missing group is added to missing.
func (g *groupsCommand) reportState(d groupDescription, rows int, missing *errGroupMissing) (bool, error) {
	if !d.exists {
		*missing = append(*missing, d.Group)
		return false, nil
	}
	switch d.State {
	case "Empty":
		fmt.Fprintf(g.stderr, "Consumer group '%s' has no active members.\n", d.Group)
	case "PreparingRebalance", "CompletingRebalance", "Assigning", "Reconciling":
		fmt.Fprintf(g.stderr, "Warning: Consumer group '%s' is rebalancing.\n", d.Group)
	case "Stable":
	default:
		return false, fmt.Errorf("expected a valid consumer group state, but found '%s'", d.State)
	}
	return rows > 0, nil
}

// describeGroups is --describe: offsets (the default), members or state.
func (g *groupsCommand) describeGroups(ctx context.Context) error {
	groups, err := g.targetGroups(ctx)
	if err != nil {
		return err
	}
	slices.Sort(groups)
	descs, err := g.describe(ctx, groups)
	if err != nil {
		return err
	}
	var missing errGroupMissing
	for _, grp := range groups {
		d := descs[grp]
		switch {
		case g.o.members:
			rows := memberRows(d)
			if show, err := g.reportState(d, len(rows), &missing); err != nil {
				return err
			} else if show || d.exists {
				// Kafka prints the header even for a group without members.
				writeMembers(g.stdout, rows, g.o.verbose)
			}
		case g.o.stateSet:
			if show, err := g.reportState(d, 1, &missing); err != nil {
				return err
			} else if show {
				writeState(g.stdout, stateRowOf(d), g.o.verbose)
			}
		default:
			var rows []offsetRow
			if d.exists {
				if rows, err = g.offsetRows(ctx, d); err != nil {
					return err
				}
			}
			if show, err := g.reportState(d, len(rows), &missing); err != nil {
				return err
			} else if show {
				writeOffsets(g.stdout, rows, g.o.verbose)
			}
		}
	}
	if len(missing) > 0 {
		return missing
	}
	return nil
}

// assignedPartitions decodes a member's assignment; a member of a group
// that is not a consumer group, or without one yet, has none.
func assignedPartitions(m kadm.DescribedGroupMember) []topicPartition {
	a, ok := m.Assigned.AsConsumer()
	if !ok {
		return nil
	}
	var out []topicPartition
	for _, t := range a.Topics {
		for _, p := range t.Partitions {
			out = append(out, topicPartition{t.Topic, p})
		}
	}
	slices.SortFunc(out, compareTopicPartitions)
	return slices.Compact(out)
}

// offsetRow is one line of --describe --offsets.
type offsetRow struct {
	group       string
	tp          topicPartition
	leaderEpoch int32 // -1: unknown
	offset      int64 // committed offset, -1: none
	logEnd      int64 // -1: unknown
	consumerID  string
	host        string
	clientID    string
}

// offsetRows gathers, as Kafka's tool does, one row per partition assigned
// to a member (members with the most partitions first), then one row per
// partition with a committed offset that no member has.
func (g *groupsCommand) offsetRows(ctx context.Context, d groupDescription) ([]offsetRow, error) {
	committed, err := g.fetchOffsets(ctx, d.Group)
	if err != nil {
		return nil, err
	}
	type member struct {
		m     kadm.DescribedGroupMember
		parts []topicPartition
	}
	var members []member
	assigned := map[topicPartition]bool{}
	topics := map[string]bool{}
	for _, m := range d.Members {
		parts := assignedPartitions(m)
		if len(parts) == 0 {
			continue
		}
		members = append(members, member{m, parts})
		for _, tp := range parts {
			assigned[tp] = true
			topics[tp.topic] = true
		}
	}
	slices.SortStableFunc(members, func(a, b member) int { return len(b.parts) - len(a.parts) })
	var unassigned []topicPartition
	committed.Each(func(r kadm.OffsetResponse) {
		tp := topicPartition{r.Topic, r.Partition}
		if r.Err == nil && r.At >= 0 && !assigned[tp] {
			unassigned = append(unassigned, tp)
			topics[r.Topic] = true
		}
	})
	slices.SortFunc(unassigned, compareTopicPartitions)

	ends, err := g.logOffsets(ctx, topics, g.adm.ListEndOffsets)
	if err != nil {
		return nil, err
	}
	row := func(tp topicPartition, consumerID, host, clientID string) offsetRow {
		r := offsetRow{group: d.Group, tp: tp, leaderEpoch: -1, offset: -1, logEnd: -1, consumerID: consumerID, host: host, clientID: clientID}
		if c, ok := committed.Lookup(tp.topic, tp.partition); ok && c.Err == nil && c.At >= 0 {
			r.offset, r.leaderEpoch = c.At, c.LeaderEpoch
		}
		if e, ok := ends[tp]; ok {
			r.logEnd = e
		}
		return r
	}
	var rows []offsetRow
	for _, m := range members {
		for _, tp := range m.parts {
			rows = append(rows, row(tp, m.m.MemberID, m.m.ClientHost, m.m.ClientID))
		}
	}
	for _, tp := range unassigned {
		rows = append(rows, row(tp, missingColumn, missingColumn, missingColumn))
	}
	return rows, nil
}

// logOffsets lists start or end offsets of every partition of topics. A
// partition whose offset cannot be listed (no leader, deleted topic) is
// left out.
func (g *groupsCommand) logOffsets(ctx context.Context, topics map[string]bool, list func(context.Context, ...string) (kadm.ListedOffsets, error)) (map[topicPartition]int64, error) {
	out := map[topicPartition]int64{}
	if len(topics) == 0 {
		return out, nil
	}
	names := make([]string, 0, len(topics))
	for t := range topics {
		names = append(names, t)
	}
	sort.Strings(names)
	listed, err := list(ctx, names...)
	if err != nil && len(listed) == 0 {
		return nil, fmt.Errorf("listing offsets: %w", err)
	}
	listed.Each(func(l kadm.ListedOffset) {
		if l.Err == nil && l.Partition >= 0 && l.Offset >= 0 {
			out[topicPartition{l.Topic, l.Partition}] = l.Offset
		}
	})
	return out, nil
}

// writeOffsets prints the --describe --offsets table: a blank line, the
// header and one line per row, as kafka-consumer-groups.sh does.
func writeOffsets(w io.Writer, rows []offsetRow, verbose bool) {
	gw, tw, cw, hw := 15, 15, 15, 15
	for _, r := range rows {
		gw = max(gw, len(r.group))
		tw = max(tw, len(r.tp.topic))
		cw = max(cw, len(r.consumerID))
		hw = max(hw, len(r.host))
	}
	line := func(group, topic, partition, epoch, current, end, lag, consumer, host, client string) {
		s := "\n" + pad(group, gw) + " " + pad(topic, tw) + " " + pad(partition, 10) + " "
		if verbose {
			s += pad(epoch, 15) + " "
		}
		s += pad(current, 15) + " " + pad(end, 15) + " " + pad(lag, 15) + " " + pad(consumer, cw) + " " + pad(host, hw) + " " + client
		io.WriteString(w, s)
	}
	line("GROUP", "TOPIC", "PARTITION", "LEADER-EPOCH", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID")
	for _, r := range rows {
		epoch, current, end, lag := missingColumn, missingColumn, missingColumn, missingColumn
		if r.leaderEpoch >= 0 {
			epoch = strconv.Itoa(int(r.leaderEpoch))
		}
		if r.offset >= 0 {
			current = strconv.FormatInt(r.offset, 10)
		}
		if r.logEnd >= 0 {
			end = strconv.FormatInt(r.logEnd, 10)
		}
		if r.offset >= 0 && r.logEnd >= 0 {
			lag = strconv.FormatInt(r.logEnd-r.offset, 10)
		}
		line(r.group, r.tp.topic, strconv.Itoa(int(r.tp.partition)), epoch, current, end, lag, r.consumerID, r.host, r.clientID)
	}
	io.WriteString(w, "\n")
}

// memberRow is one line of --describe --members.
type memberRow struct {
	group, consumerID, instanceID, host, clientID string
	assignment                                    []topicPartition
}

func memberRows(d groupDescription) []memberRow {
	rows := make([]memberRow, 0, len(d.Members))
	for _, m := range d.Members {
		r := memberRow{group: d.Group, consumerID: m.MemberID, host: m.ClientHost, clientID: m.ClientID, assignment: assignedPartitions(m)}
		if m.InstanceID != nil {
			r.instanceID = *m.InstanceID
		}
		rows = append(rows, r)
	}
	return rows
}

// assignmentString renders partitions as Kafka's tool does:
// "topic:0,1;other:2", topics sorted; "-" for none.
func assignmentString(tps []topicPartition) string {
	if len(tps) == 0 {
		return missingColumn
	}
	byTopic := map[string][]int32{}
	for _, tp := range tps {
		byTopic[tp.topic] = append(byTopic[tp.topic], tp.partition)
	}
	var out []string
	for t, ps := range byTopic {
		slices.Sort(ps)
		s := make([]string, len(ps))
		for i, p := range ps {
			s[i] = strconv.Itoa(int(p))
		}
		out = append(out, t+":"+strings.Join(s, ","))
	}
	sort.Strings(out)
	return strings.Join(out, ";")
}

// writeMembers prints the --describe --members table. GROUP-INSTANCE-ID
// appears only when some member is static (KIP-345); --verbose adds the
// epochs and assignments, which a classic group has no epochs for.
func writeMembers(w io.Writer, rows []memberRow, verbose bool) {
	gw, cw, iw, hw, clw, aw, tw := 15, 15, 17, 15, 15, 20, 20
	withInstance := false
	for _, r := range rows {
		gw = max(gw, len(r.group))
		cw = max(cw, len(r.consumerID))
		iw = max(iw, len(r.instanceID))
		hw = max(hw, len(r.host))
		clw = max(clw, len(r.clientID))
		aw = max(aw, len(assignmentString(r.assignment)))
		withInstance = withInstance || r.instanceID != ""
	}
	cols := func(group, consumer, instance, host, client, parts string) string {
		s := pad(group, gw) + " " + pad(consumer, cw) + " "
		if withInstance {
			s += pad(instance, iw) + " "
		}
		return s + pad(host, hw) + " " + pad(client, clw) + " " + pad(parts, 15) + " "
	}
	extra := func(curEpoch, cur, targetEpoch, target string) string {
		return pad(curEpoch, 15) + " " + pad(cur, aw) + " " + pad(targetEpoch, 15) + " " + pad(target, tw)
	}
	header := "\n" + cols("GROUP", "CONSUMER-ID", "GROUP-INSTANCE-ID", "HOST", "CLIENT-ID", "#PARTITIONS")
	if verbose {
		header += extra("CURRENT-EPOCH", "CURRENT-ASSIGNMENT", "TARGET-EPOCH", "TARGET-ASSIGNMENT")
	}
	fmt.Fprintln(w, header)
	for _, r := range rows {
		s := cols(r.group, r.consumerID, r.instanceID, r.host, r.clientID, strconv.Itoa(len(r.assignment)))
		if verbose {
			s += extra(missingColumn, assignmentString(r.assignment), missingColumn, missingColumn)
		}
		fmt.Fprintln(w, s)
	}
}

// stateRow is the one line of --describe --state.
type stateRow struct {
	group, coordinator, strategy, state string
	members                             int
}

func stateRowOf(d groupDescription) stateRow {
	c := d.Coordinator
	return stateRow{
		group:       d.Group,
		coordinator: fmt.Sprintf("%s:%d  (%d)", c.Host, c.Port, c.NodeID),
		strategy:    d.Protocol,
		state:       d.State,
		members:     len(d.Members),
	}
}

// writeState prints the --describe --state table; --verbose adds the
// KIP-848 epochs, which a classic group does not have.
func writeState(w io.Writer, r stateRow, verbose bool) {
	gw, cw := max(15, len(r.group)), max(25, len(r.coordinator))
	strategy := r.strategy
	if strategy == "" {
		strategy = missingColumn
	}
	line := func(group, coord, strategy, state, groupEpoch, targetEpoch, members string) string {
		s := "\n" + pad(group, gw) + " " + pad(coord, cw) + " " + pad(strategy, 20) + " " + pad(state, 20) + " "
		if verbose {
			s += pad(groupEpoch, 15) + " " + pad(targetEpoch, 25) + " "
		}
		return s + members
	}
	io.WriteString(w, line("GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "GROUP-EPOCH", "TARGET-ASSIGNMENT-EPOCH", "#MEMBERS"))
	io.WriteString(w, line(r.group, r.coordinator, strategy, r.state, missingColumn, missingColumn, strconv.Itoa(r.members)))
	io.WriteString(w, "\n")
}

// deleteGroups is --delete: it prints Kafka's success line, or names each
// group that could not be deleted and why.
func (g *groupsCommand) deleteGroups(ctx context.Context) error {
	groups, err := g.targetGroups(ctx)
	if err != nil {
		return err
	}
	// Groups whose coordinator is not ready are asked again; the others
	// keep their first answer, since deleting twice would report a
	// deleted group as missing.
	resps := kadm.DeleteGroupResponses{}
	pending := groups
	rerr := g.retry(ctx, func() error {
		var got kadm.DeleteGroupResponses
		got, err = g.adm.DeleteGroups(ctx, pending...)
		if err != nil && len(got) == 0 {
			return err
		}
		var again []string
		var last error
		for _, grp := range pending {
			r, ok := got[grp]
			if !ok {
				continue
			}
			resps[grp] = r
			if retriable(r.Err) {
				again, last = append(again, grp), r.Err
			}
		}
		pending = again
		return last
	})
	if rerr != nil && len(resps) == 0 {
		return fmt.Errorf("deleting groups: %w", rerr)
	}
	var ok, failed []string
	for _, grp := range groups {
		r, found := resps[grp]
		switch {
		case !found:
			failed = append(failed, fmt.Sprintf("Group '%s' could not be deleted due to: %v", grp, firstErr(err, errors.New("no response from its coordinator"))))
		case r.Err != nil:
			failed = append(failed, fmt.Sprintf("Group '%s' could not be deleted due to: %v", grp, topicError(r.Err, r.ErrMessage)))
		default:
			ok = append(ok, "'"+grp+"'")
		}
	}
	if len(failed) == 0 {
		fmt.Fprintf(g.stdout, "Deletion of requested consumer groups (%s) was successful.\n", strings.Join(ok, ", "))
		return nil
	}
	if len(ok) > 0 {
		fmt.Fprintf(g.stdout, "These consumer groups were deleted successfully: %s\n", strings.Join(ok, ", "))
	}
	return fmt.Errorf("Deletion of some consumer groups failed: %s", strings.Join(failed, "; ")) //nolint:staticcheck // Kafka's wording
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// deleteGroupOffsets is --delete-offsets: it deletes one group's committed
// offsets for the given topics (all partitions, or the listed ones) and
// prints one status line per partition.
func (g *groupsCommand) deleteGroupOffsets(ctx context.Context) error {
	group := g.o.groups[0]
	status := map[topicPartition]error{}
	set := kadm.TopicsSet{}
	var whole []string
	for _, t := range g.o.topics {
		a, _ := parseTopicArg(t) // validated
		if a.partitions == nil {
			whole = append(whole, a.topic)
			continue
		}
		set.Add(a.topic, a.partitions...)
	}
	if len(whole) > 0 {
		details, err := g.adm.ListTopics(ctx, whole...)
		if err != nil {
			return fmt.Errorf("describing topics: %w", err)
		}
		for _, t := range whole {
			d, ok := details[t]
			if !ok || d.Err != nil {
				status[topicPartition{t, -1}] = firstErr(d.Err, kerr.UnknownTopicOrPartition)
				continue
			}
			for p := range d.Partitions {
				set.Add(t, p)
			}
		}
	}
	var topErr error
	if len(set) > 0 {
		var resps kadm.DeleteOffsetsResponses
		err := g.retry(ctx, func() (err error) {
			resps, err = g.adm.DeleteOffsets(ctx, group, set)
			return err
		})
		if err != nil {
			var ke *kerr.Error
			if !errors.As(err, &ke) {
				return fmt.Errorf("deleting offsets of group %s: %w", group, err)
			}
			topErr = err
		}
		set.Each(func(t string, p int32) {
			switch e, ok := resps.Lookup(t, p); {
			case topErr != nil:
				status[topicPartition{t, p}] = topErr
			case !ok:
				status[topicPartition{t, p}] = errors.New("no result from the coordinator")
			default:
				status[topicPartition{t, p}] = e
			}
		})
	}
	partitionErrs := false
	for _, e := range status {
		partitionErrs = partitionErrs || e != nil
	}
	if topErr == nil && !partitionErrs {
		fmt.Fprintf(g.stdout, "Request succeeded for deleting offsets from group %s.\n", group)
	}
	writeDeleteOffsets(g.stdout, status)
	switch {
	case topErr != nil:
		return fmt.Errorf("deleting offsets of group %s: %w", group, topErr)
	case partitionErrs:
		return errors.New("Encountered some partition-level error, see the follow-up details.") //nolint:staticcheck // Kafka's wording
	}
	return nil
}

// writeDeleteOffsets prints the TOPIC, PARTITION, STATUS table of
// --delete-offsets.
func writeDeleteOffsets(w io.Writer, status map[topicPartition]error) {
	tps := make([]topicPartition, 0, len(status))
	tw := 15
	for tp := range status {
		tps = append(tps, tp)
		tw = max(tw, len(tp.topic))
	}
	slices.SortFunc(tps, compareTopicPartitions)
	line := func(topic, partition, st string) {
		io.WriteString(w, "\n"+pad(topic, tw)+" "+pad(partition, 10)+" "+pad(st, 15))
	}
	line("TOPIC", "PARTITION", "STATUS")
	for _, tp := range tps {
		p := missingColumn
		if tp.partition >= 0 {
			p = strconv.Itoa(int(tp.partition))
		}
		st := "Successful"
		if err := status[tp]; err != nil {
			st = "Error: " + err.Error()
		}
		line(tp.topic, p, st)
	}
	io.WriteString(w, "\n")
}
