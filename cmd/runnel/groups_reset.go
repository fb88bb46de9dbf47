package main

// The --reset-offsets half of runnel groups: reading the reset scenario,
// computing new offsets and committing them.

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// parseResetDatetime parses --to-datetime as Kafka does: an ISO-8601 local
// date and time with exactly three fraction digits, then an optional zone
// (Z, +hh, +hhmm or +hh:mm); without a zone the time is UTC. It returns
// Unix milliseconds.
func parseResetDatetime(s string) (int64, error) {
	date, clock, ok := strings.Cut(s, "T")
	if !ok || date == "" || clock == "" {
		return 0, fmt.Errorf("%q does not contain a 'T' according to ISO8601 format YYYY-MM-DDTHH:mm:SS.sss", s)
	}
	if !strings.ContainsAny(clock, "+-Z") {
		s += "Z"
	}
	for _, layout := range []string{
		"2006-01-02T15:04:05.000Z07:00",
		"2006-01-02T15:04:05.000Z0700",
		"2006-01-02T15:04:05.000Z07",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixMilli(), nil
		}
	}
	return 0, fmt.Errorf("%q is not a date and time of the form YYYY-MM-DDTHH:mm:SS.sss, optionally followed by Z, +hh, +hhmm or +hh:mm", strings.TrimSuffix(s, "Z"))
}

// parseISODuration parses an ISO-8601 duration as java.time.Duration.parse
// does: [-]PnDTnHnMn.nS, letters in either case, each number optionally
// signed, at least one part, seconds with up to nine fraction digits taking
// the sign of the seconds.
func parseISODuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("%q is not a duration of the form PnDTnHnMnS", s)
	in := strings.ToUpper(s)
	neg := false
	if in != "" && (in[0] == '-' || in[0] == '+') {
		neg = in[0] == '-'
		in = in[1:]
	}
	if !strings.HasPrefix(in, "P") {
		return 0, bad
	}
	datePart, timePart, hasT := strings.Cut(in[1:], "T")
	if hasT && timePart == "" {
		return 0, bad
	}
	var total time.Duration
	add := func(n int64, unit time.Duration) error {
		const limit = int64(1<<63 - 1)
		if n > limit/int64(unit) || n < -limit/int64(unit) {
			return fmt.Errorf("%q is out of range", s)
		}
		d := time.Duration(n) * unit
		if (d > 0 && total > time.Duration(limit)-d) || (d < 0 && total < -time.Duration(limit)-d) {
			return fmt.Errorf("%q is out of range", s)
		}
		total += d
		return nil
	}
	parts := 0
	// Each part is a signed integer, for seconds an optional fraction, and
	// a unit letter; the units come in the order given by units.
	read := func(str, units string) error {
		for str != "" {
			i := 0
			minus := str[0] == '-'
			if str[0] == '+' || minus {
				i++
			}
			digits := i
			for i < len(str) && str[i] >= '0' && str[i] <= '9' {
				i++
			}
			if i == digits {
				return bad
			}
			n, err := strconv.ParseInt(str[:i], 10, 64)
			if err != nil {
				return fmt.Errorf("%q is out of range", s)
			}
			frac := ""
			if i < len(str) && (str[i] == '.' || str[i] == ',') {
				j := i + 1
				for j < len(str) && str[j] >= '0' && str[j] <= '9' {
					j++
				}
				frac, i = str[i+1:j], j
				if len(frac) > 9 || i >= len(str) || str[i] != 'S' {
					return bad
				}
			}
			if i >= len(str) {
				return bad
			}
			u := strings.IndexByte(units, str[i])
			if u < 0 {
				return bad
			}
			unit := units[u]
			units, str = units[u+1:], str[i+1:]
			switch unit {
			case 'D':
				err = add(n, 24*time.Hour)
			case 'H':
				err = add(n, time.Hour)
			case 'M':
				err = add(n, time.Minute)
			case 'S':
				err = add(n, time.Second)
				if err == nil && frac != "" {
					ns, _ := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
					if minus {
						ns = -ns
					}
					err = add(ns, time.Nanosecond)
				}
			}
			if err != nil {
				return err
			}
			parts++
		}
		return nil
	}
	if err := read(datePart, "D"); err != nil {
		return 0, err
	}
	if err := read(timePart, "HMS"); err != nil {
		return 0, err
	}
	if parts == 0 {
		return 0, bad
	}
	if neg {
		total = -total
	}
	return total, nil
}

// reset is --reset-offsets. Each group must be inactive (Empty, or Dead:
// not existing yet); its new offsets are printed, and committed with
// --execute. A group that cannot be reset does not stop the others; the
// command then fails naming it.
func (g *groupsCommand) reset(ctx context.Context) error {
	groups, err := g.targetGroups(ctx)
	if err != nil {
		return err
	}
	slices.Sort(groups)
	descs, err := g.describe(ctx, groups)
	if err != nil {
		return err
	}
	var plan map[string]map[topicPartition]int64
	if g.o.fromFile != "" {
		data, err := os.ReadFile(g.o.fromFile)
		if err != nil {
			return fmt.Errorf("reading reset plan: %w", err)
		}
		if plan, err = parseResetPlan(string(data), g.o.groups); err != nil {
			return fmt.Errorf("reading reset plan %s: %w", g.o.fromFile, err)
		}
	}
	results := map[string]map[topicPartition]int64{}
	var errs []error
	for _, grp := range groups {
		d := descs[grp]
		if d.exists && d.State != "Empty" {
			errs = append(errs, fmt.Errorf("Assignments can only be reset if the group '%s' is inactive, but the current state is %s.", grp, d.State)) //nolint:staticcheck // Kafka's wording
			continue
		}
		offsets, err := g.resetGroup(ctx, grp, plan)
		if err != nil {
			errs = append(errs, fmt.Errorf("group %s: %w", grp, err))
			continue
		}
		results[grp] = offsets
	}
	if g.o.export {
		if err := writeResetPlan(g.stdout, results, len(g.o.groups) == 1); err != nil {
			return err
		}
	} else if len(results) > 0 {
		writeNewOffsets(g.stdout, results)
	}
	return errors.Join(errs...)
}

// resetGroup computes one group's new offsets and commits them with
// --execute.
func (g *groupsCommand) resetGroup(ctx context.Context, group string, plan map[string]map[topicPartition]int64) (map[topicPartition]int64, error) {
	committed, err := g.fetchOffsets(ctx, group)
	if err != nil {
		return nil, err
	}
	current := map[topicPartition]int64{}
	committed.Each(func(r kadm.OffsetResponse) {
		if r.Err == nil && r.At >= 0 {
			current[topicPartition{r.Topic, r.Partition}] = r.At
		}
	})

	var parts []topicPartition
	switch {
	case g.o.allTopics:
		for tp := range current {
			parts = append(parts, tp)
		}
	case len(g.o.topics) > 0:
		if parts, err = g.topicPartitions(ctx); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(parts, compareTopicPartitions)
	if g.o.fromFile != "" {
		p, ok := plan[group]
		if !ok {
			return nil, fmt.Errorf("no reset plan for group %s found", group)
		}
		parts = parts[:0]
		for tp := range p {
			parts = append(parts, tp)
		}
		slices.SortFunc(parts, compareTopicPartitions)
	}
	if err := g.checkPartitions(ctx, parts); err != nil {
		return nil, err
	}
	newOffsets, err := g.newOffsets(ctx, parts, current, plan[group])
	if err != nil {
		return nil, err
	}
	if g.o.execute && len(newOffsets) > 0 {
		commit := kadm.Offsets{}
		for tp, off := range newOffsets {
			commit.AddOffset(tp.topic, tp.partition, off, -1)
		}
		if err := g.retry(ctx, func() error { return g.adm.CommitAllOffsets(ctx, group, commit) }); err != nil {
			return nil, fmt.Errorf("committing offsets: %w", err)
		}
	}
	return newOffsets, nil
}

// topicPartitions expands --topic values into partitions; a topic given
// without partitions stands for all of them.
func (g *groupsCommand) topicPartitions(ctx context.Context) ([]topicPartition, error) {
	var whole []string
	var parts []topicPartition
	for _, t := range g.o.topics {
		a, _ := parseTopicArg(t) // validated
		if a.partitions == nil {
			whole = append(whole, a.topic)
			continue
		}
		for _, p := range a.partitions {
			parts = append(parts, topicPartition{a.topic, p})
		}
	}
	if len(whole) > 0 {
		details, err := g.adm.ListTopics(ctx, whole...)
		if err != nil {
			return nil, fmt.Errorf("describing topics: %w", err)
		}
		for _, t := range whole {
			d, ok := details[t]
			if !ok || d.Err != nil {
				return nil, fmt.Errorf("topic %s: %w", t, firstErr(d.Err, kerr.UnknownTopicOrPartition))
			}
			for p := range d.Partitions {
				parts = append(parts, topicPartition{t, p})
			}
		}
	}
	slices.SortFunc(parts, compareTopicPartitions)
	return slices.Compact(parts), nil
}

// checkPartitions fails, as Kafka does, when a partition does not exist or
// has no leader.
func (g *groupsCommand) checkPartitions(ctx context.Context, parts []topicPartition) error {
	topics := map[string]bool{}
	for _, tp := range parts {
		topics[tp.topic] = true
	}
	if len(topics) == 0 {
		return nil
	}
	names := make([]string, 0, len(topics))
	for t := range topics {
		names = append(names, t)
	}
	details, err := g.adm.ListTopics(ctx, names...)
	if err != nil {
		return fmt.Errorf("describing topics: %w", err)
	}
	var missing, leaderless []string
	for _, tp := range parts {
		d, ok := details[tp.topic]
		if !ok || d.Err != nil {
			missing = append(missing, tp.String())
			continue
		}
		p, ok := d.Partitions[tp.partition]
		switch {
		case !ok:
			missing = append(missing, tp.String())
		case p.Leader < 0:
			leaderless = append(leaderless, tp.String())
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("The partitions \"%s\" do not exist", strings.Join(missing, ",")) //nolint:staticcheck // Kafka's wording
	}
	if len(leaderless) > 0 {
		return fmt.Errorf("The partitions \"%s\" have no leader", strings.Join(leaderless, ",")) //nolint:staticcheck // Kafka's wording
	}
	return nil
}

// newOffsets applies the reset scenario to parts.
func (g *groupsCommand) newOffsets(ctx context.Context, parts []topicPartition, current, plan map[topicPartition]int64) (map[topicPartition]int64, error) {
	out := make(map[topicPartition]int64, len(parts))
	if len(parts) == 0 {
		return out, nil
	}
	topics := map[string]bool{}
	for _, tp := range parts {
		topics[tp.topic] = true
	}
	o := g.o
	switch {
	case o.toEarliest, o.toLatest:
		list, what := g.adm.ListStartOffsets, "starting"
		if o.toLatest {
			list, what = g.adm.ListEndOffsets, "ending"
		}
		offs, err := g.logOffsets(ctx, topics, list)
		if err != nil {
			return nil, err
		}
		for _, tp := range parts {
			off, ok := offs[tp]
			if !ok {
				return nil, fmt.Errorf("error getting %s offset of topic partition: %s", what, tp)
			}
			out[tp] = off
		}
		return out, nil
	case o.toCurrent:
		ends, err := g.logOffsets(ctx, topics, g.adm.ListEndOffsets)
		if err != nil {
			return nil, err
		}
		for _, tp := range parts {
			if off, ok := current[tp]; ok {
				out[tp] = off
				continue
			}
			off, ok := ends[tp]
			if !ok {
				return nil, fmt.Errorf("error getting ending offset of topic partition: %s", tp)
			}
			out[tp] = off
		}
		return out, nil
	case o.toDatetime != "", o.byDuration != "":
		ts := o.datetime
		if o.byDuration != "" {
			ts = g.now().Add(-o.duration).UnixMilli()
		}
		return g.offsetsForTimestamp(ctx, parts, topics, ts)
	}

	// The remaining scenarios ask for offsets that are brought into the
	// partition's range.
	requested := make(map[topicPartition]int64, len(parts))
	for _, tp := range parts {
		switch {
		case o.toOffsetSet:
			requested[tp] = o.toOffset
		case o.shiftBySet:
			cur, ok := current[tp]
			if !ok {
				return nil, fmt.Errorf("cannot shift offset for partition %s since there is no current committed offset", tp)
			}
			requested[tp] = cur + o.shiftBy
		default:
			requested[tp] = plan[tp]
		}
	}
	starts, err := g.logOffsets(ctx, topics, g.adm.ListStartOffsets)
	if err != nil {
		return nil, err
	}
	ends, err := g.logOffsets(ctx, topics, g.adm.ListEndOffsets)
	if err != nil {
		return nil, err
	}
	for _, tp := range parts {
		off := requested[tp]
		if end, ok := ends[tp]; ok && off > end {
			fmt.Fprintf(g.stderr, "WARN: New offset (%d) is higher than latest offset for topic partition %s. Value will be set to %d.\n", off, tp, end)
			off = end
		} else if start, ok := starts[tp]; ok && off < start {
			fmt.Fprintf(g.stderr, "WARN: New offset (%d) is lower than earliest offset for topic partition %s. Value will be set to %d.\n", off, tp, start)
			off = start
		}
		out[tp] = off
	}
	return out, nil
}

// offsetsForTimestamp finds each partition's first offset whose record
// timestamp is at or after ts (Unix milliseconds). A partition with no such
// record falls back to its end offset, with Kafka's warning.
func (g *groupsCommand) offsetsForTimestamp(ctx context.Context, parts []topicPartition, topics map[string]bool, ts int64) (map[topicPartition]int64, error) {
	names := make([]string, 0, len(topics))
	for t := range topics {
		names = append(names, t)
	}
	sort.Strings(names)
	listed, err := g.adm.ListOffsetsAfterMilli(ctx, ts, names...)
	if err != nil && len(listed) == 0 {
		return nil, fmt.Errorf("listing offsets by timestamp: %w", err)
	}
	out := make(map[topicPartition]int64, len(parts))
	for _, tp := range parts {
		l, ok := listed.Lookup(tp.topic, tp.partition)
		if !ok || l.Err != nil || l.Offset < 0 {
			return nil, fmt.Errorf("error getting offset by timestamp of topic partition: %s", tp)
		}
		// Listing by time falls back to the end offset, whose timestamp
		// is -1, when no record is that recent.
		if l.Timestamp < 0 {
			fmt.Fprintf(g.stderr, "Warn: Partition %d from topic %s is empty. Falling back to latest known offset.\n", tp.partition, tp.topic)
		}
		out[tp] = l.Offset
	}
	return out, nil
}

// writeNewOffsets prints the GROUP, TOPIC, PARTITION, NEW-OFFSET table of
// --reset-offsets.
func writeNewOffsets(w io.Writer, results map[string]map[topicPartition]int64) {
	gw, tw := 15, 15
	groups := make([]string, 0, len(results))
	for grp, offs := range results {
		groups = append(groups, grp)
		gw = max(gw, len(grp))
		for tp := range offs {
			tw = max(tw, len(tp.topic))
		}
	}
	sort.Strings(groups)
	line := func(group, topic, partition, offset string) {
		io.WriteString(w, "\n"+pad(group, gw)+" "+pad(topic, tw)+" "+pad(partition, 10)+" "+offset)
	}
	line("GROUP", "TOPIC", "PARTITION", "NEW-OFFSET")
	for _, grp := range groups {
		offs := results[grp]
		tps := make([]topicPartition, 0, len(offs))
		for tp := range offs {
			tps = append(tps, tp)
		}
		slices.SortFunc(tps, compareTopicPartitions)
		for _, tp := range tps {
			line(grp, tp.topic, strconv.Itoa(int(tp.partition)), strconv.FormatInt(offs[tp], 10))
		}
	}
	io.WriteString(w, "\n")
}

// writeResetPlan prints --export's CSV: topic,partition,offset lines when
// one group was named, group,topic,partition,offset lines otherwise,
// followed by an empty line as Kafka's tool prints it.
func writeResetPlan(w io.Writer, results map[string]map[topicPartition]int64, singleGroup bool) error {
	cw := csv.NewWriter(w)
	groups := make([]string, 0, len(results))
	for grp := range results {
		groups = append(groups, grp)
	}
	sort.Strings(groups)
	for _, grp := range groups {
		offs := results[grp]
		tps := make([]topicPartition, 0, len(offs))
		for tp := range offs {
			tps = append(tps, tp)
		}
		slices.SortFunc(tps, compareTopicPartitions)
		for _, tp := range tps {
			rec := []string{tp.topic, strconv.Itoa(int(tp.partition)), strconv.FormatInt(offs[tp], 10)}
			if !singleGroup {
				rec = append([]string{grp}, rec...)
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// parseResetPlan reads a --from-file CSV as --export writes it. With one
// --group, lines may be topic,partition,offset (for that group); otherwise
// each line is group,topic,partition,offset. Empty lines are skipped.
func parseResetPlan(data string, groups []string) (map[string]map[topicPartition]int64, error) {
	r := csv.NewReader(strings.NewReader(data))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	plan := map[string]map[topicPartition]int64{}
	withoutGroup := false
	for n := 0; ; n++ {
		rec, err := r.Read()
		if err == io.EOF {
			return plan, nil
		}
		if err != nil {
			return nil, err
		}
		line, _ := r.FieldPos(0)
		if n == 0 {
			withoutGroup = len(groups) == 1 && len(rec) == 3
		}
		want := 4
		group := ""
		if withoutGroup {
			want, group = 3, groups[0]
		}
		if len(rec) != want {
			return nil, fmt.Errorf("line %d: %d fields, want %s", line, len(rec), map[int]string{3: "topic,partition,offset", 4: "group,topic,partition,offset"}[want])
		}
		if !withoutGroup {
			group, rec = rec[0], rec[1:]
		}
		topic := strings.TrimSpace(rec[0])
		p, perr := strconv.ParseInt(strings.TrimSpace(rec[1]), 10, 32)
		off, oerr := strconv.ParseInt(strings.TrimSpace(rec[2]), 10, 64)
		switch {
		case topic == "":
			return nil, fmt.Errorf("line %d: empty topic", line)
		case perr != nil || p < 0:
			return nil, fmt.Errorf("line %d: invalid partition %q", line, rec[1])
		case oerr != nil:
			return nil, fmt.Errorf("line %d: invalid offset %q", line, rec[2])
		}
		if plan[group] == nil {
			plan[group] = map[topicPartition]int64{}
		}
		plan[group][topicPartition{topic, int32(p)}] = off
	}
}
