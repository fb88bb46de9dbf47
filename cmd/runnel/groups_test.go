package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestGroupsBadFlags(t *testing.T) {
	bs := []string{"--bootstrap-server", "127.0.0.1:1"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no action", append(bs, "--group", "g"), "exactly one action"},
		{"two actions", append(bs, "--list", "--describe", "--group", "g"), "exactly one action"},
		{"no bootstrap", []string{"--list"}, "--bootstrap-server must be specified"},
		{"describe without group", append(bs, "--describe"), "option --describe takes one of these options: --all-groups, --group"},
		{"describe two sub-actions", append(bs, "--describe", "--group", "g", "--members", "--state"), "at most one of these options: --members, --offsets, --state"},
		{"describe state with value", append(bs, "--describe", "--group", "g", "--state", "Stable"), "does not take a value for --state"},
		{"group with all-groups", append(bs, "--describe", "--group", "g", "--all-groups"), "--group can't be used with option --all-groups"},
		{"group with list", append(bs, "--list", "--group", "g"), "option --group can only be used with"},
		{"topic with describe", append(bs, "--describe", "--group", "g", "--topic", "t"), "--topic can't be used"},
		{"members with list", append(bs, "--list", "--members"), "option --members can only be used with --describe"},
		{"type with describe", append(bs, "--describe", "--group", "g", "--type"), "option --type can only be used with --list"},
		{"bad state", append(bs, "--list", "--state", "stable,sleeping"), "invalid state list 'stable,sleeping'. Valid states are: PreparingRebalance"},
		{"bad type", append(bs, "--list", "--type", "share"), "invalid types list 'share'. Valid types are: classic, consumer"},
		{"delete without group", append(bs, "--delete"), "option --delete takes one of these options"},
		{"delete with topic", append(bs, "--delete", "--group", "g", "--topic", "t"), "topic-specific offset deletion"},
		{"delete-offsets without topic", append(bs, "--delete-offsets", "--group", "g"), "option --delete-offsets takes the following options: --group, --topic"},
		{"delete-offsets two groups", append(bs, "--delete-offsets", "--group", "a", "--group", "b", "--topic", "t"), "one consumer group at a time"},
		{"delete-offsets all groups", append(bs, "--delete-offsets", "--all-groups", "--topic", "t"), "option --all-groups can only be used with"},
		{"reset without group", append(bs, "--reset-offsets", "--topic", "t", "--to-earliest"), "option --reset-offsets takes one of these options"},
		{"reset without scenario", append(bs, "--reset-offsets", "--group", "g", "--topic", "t"), "requires one of the following scenarios: --to-datetime, --by-duration, --to-earliest, --to-latest, --shift-by, --from-file, --to-current, --to-offset"},
		{"reset two scenarios", append(bs, "--reset-offsets", "--group", "g", "--topic", "t", "--to-earliest", "--to-offset", "3"), "option --to-earliest can't be used with option --to-offset"},
		{"reset without scope", append(bs, "--reset-offsets", "--group", "g", "--to-latest"), "one of the reset scopes should be defined: --all-topics, --topic"},
		{"reset both scopes", append(bs, "--reset-offsets", "--group", "g", "--all-topics", "--topic", "t", "--to-latest"), "--all-topics can't be used with option --topic"},
		{"reset dry-run and execute", append(bs, "--reset-offsets", "--group", "g", "--topic", "t", "--to-latest", "--dry-run", "--execute"), "only accepts one of --execute and --dry-run"},
		{"reset bad topic arg", append(bs, "--reset-offsets", "--group", "g", "--topic", "t:0:1", "--to-latest"), "invalid topic arg 't:0:1', expected topic name and partitions"},
		{"reset bad partition", append(bs, "--reset-offsets", "--group", "g", "--topic", "t:0,x", "--to-latest"), "invalid partition 'x' specified in topic arg 't:0,x'"},
		{"reset bad datetime", append(bs, "--reset-offsets", "--group", "g", "--topic", "t", "--to-datetime", "2024-01-01 10:00:00"), "invalid --to-datetime"},
		{"reset bad duration", append(bs, "--reset-offsets", "--group", "g", "--topic", "t", "--by-duration", "1d"), "invalid --by-duration"},
		{"scenario without reset", append(bs, "--describe", "--group", "g", "--to-earliest"), "option --to-earliest can only be used with --reset-offsets"},
		{"execute without reset", append(bs, "--delete", "--group", "g", "--execute"), "option --execute can only be used with --reset-offsets"},
		{"bad timeout", append(bs, "--list", "--timeout", "0"), "--timeout must be a positive number"},
		{"bad to-offset", append(bs, "--reset-offsets", "--group", "g", "--topic", "t", "--to-offset", "x"), `invalid value "x" for flag -to-offset`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t.Context(), "", append([]string{"groups"}, tc.args...)...)
			assertOneLineError(t, r, tc.want)
			if r.code != 2 {
				t.Errorf("exit %d, want 2 for a usage error", r.code)
			}
		})
	}
}

func TestGroupsValidateRegex(t *testing.T) {
	r := mustRun(t, "", "groups", "--validate-regex", "orders-.*")
	if r.stdout != "The regular expression `orders-.*` is valid.\n" {
		t.Errorf("valid regex printed %q", r.stdout)
	}
	r = mustRun(t, "", "groups", "--validate-regex", "orders-(")
	if !strings.HasPrefix(r.stdout, "The regular expression `orders-(` is invalid: missing closing )") {
		t.Errorf("invalid regex printed %q", r.stdout)
	}
}

func TestJoinOptionalValues(t *testing.T) {
	tests := []struct{ in, want string }{
		{"--list --state", "--list --state="},
		{"--list --state stable,empty", "--list --state=stable,empty"},
		{"--list --state --type", "--list --state= --type="},
		{"--list --type consumer --state", "--list --type=consumer --state="},
		{"--describe --state --group g", "--describe --state= --group g"},
		{"--list -state=Empty", "--list -state=Empty"},
		{"--group state", "--group state"},
	}
	for _, tc := range tests {
		got := strings.Join(joinOptionalValues(strings.Fields(tc.in), "state", "type"), " ")
		if got != tc.want {
			t.Errorf("joinOptionalValues(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseTopicArg(t *testing.T) {
	tests := []struct {
		in      string
		topic   string
		parts   []int32
		wantErr string
	}{
		{"orders", "orders", nil, ""},
		{"orders:0", "orders", []int32{0}, ""},
		{"orders:0,2,5", "orders", []int32{0, 2, 5}, ""},
		{"orders:", "", nil, "expected topic name and partitions"},
		{":1", "", nil, "expected topic name and partitions"},
		{"a:1:2", "", nil, "expected topic name and partitions"},
		{"orders:1,,2", "", nil, "invalid partition ''"},
		{"orders:-1", "", nil, "invalid partition '-1'"},
		{"orders:99999999999", "", nil, "invalid partition '99999999999'"},
		{"", "", nil, "expected a topic name"},
	}
	for _, tc := range tests {
		a, err := parseTopicArg(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("parseTopicArg(%q) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || a.topic != tc.topic || fmt.Sprint(a.partitions) != fmt.Sprint(tc.parts) {
			t.Errorf("parseTopicArg(%q) = %+v, %v; want %s %v", tc.in, a, err, tc.topic, tc.parts)
		}
	}
}

func FuzzParseTopicArg(f *testing.F) {
	f.Add("orders:0,1")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := parseTopicArg(s)
		if err != nil {
			return
		}
		if a.topic == "" || strings.Contains(a.topic, ":") {
			t.Fatalf("parseTopicArg(%q) accepted topic %q", s, a.topic)
		}
		if strings.Contains(s, ":") != (a.partitions != nil) {
			t.Fatalf("parseTopicArg(%q): partitions %v", s, a.partitions)
		}
		for _, p := range a.partitions {
			if p < 0 {
				t.Fatalf("parseTopicArg(%q): negative partition %d", s, p)
			}
		}
	})
}

func TestParseISODuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"P1D", 24 * time.Hour, true},
		{"PT1H", time.Hour, true},
		{"pt15m", 15 * time.Minute, true},
		{"PT30S", 30 * time.Second, true},
		{"P1DT2H3M4.5S", 26*time.Hour + 3*time.Minute + 4500*time.Millisecond, true},
		{"PT0.001S", time.Millisecond, true},
		{"PT-1.5S", -1500 * time.Millisecond, true},
		{"PT-0.5S", -500 * time.Millisecond, true},
		{"-PT6H", -6 * time.Hour, true},
		{"+PT6H", 6 * time.Hour, true},
		{"P-1DT25H", time.Hour, true},
		{"PT1,5S", 1500 * time.Millisecond, true},
		{"PT1.S", time.Second, true},
		{"P", 0, false},
		{"PT", 0, false},
		{"P1H", 0, false},    // hours belong after T
		{"PT1D", 0, false},   // days belong before T
		{"PT1S2M", 0, false}, // out of order
		{"PT1H1H", 0, false}, // repeated
		{"P1.5D", 0, false},  // only seconds take a fraction
		{"PT1.1234567891S", 0, false},
		{"1D", 0, false},
		{"", 0, false},
		{"P1W", 0, false},
		{"PT5", 0, false},
		{"P200000D", 0, false}, // beyond what a duration holds
	}
	for _, tc := range tests {
		got, err := parseISODuration(tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("parseISODuration(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func FuzzParseISODuration(f *testing.F) {
	f.Add("P1DT2H3M4.5S")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseISODuration(s)
		if err != nil {
			return
		}
		// Whatever was accepted prints back as hours, minutes and seconds
		// and parses again to the same value.
		again, err := parseISODuration(isoString(d))
		if err != nil || again != d {
			t.Fatalf("parseISODuration(%q) = %v; re-parsing %q gave %v, %v", s, d, isoString(d), again, err)
		}
	})
}

// isoString writes d as PTnS with nanoseconds, for the round-trip check.
func isoString(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	return fmt.Sprintf("%sPT%d.%09dS", sign, int64(d/time.Second), int64(d%time.Second))
}

func TestParseResetDatetime(t *testing.T) {
	utc := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMilli()
	}
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"2020-11-10T16:51:38.198", utc("2020-11-10T16:51:38.198Z"), true},
		{"2020-11-10T16:51:38.198Z", utc("2020-11-10T16:51:38.198Z"), true},
		{"2020-11-10T16:51:38.198+08:00", utc("2020-11-10T08:51:38.198Z"), true},
		{"2020-11-10T16:51:38.198+0800", utc("2020-11-10T08:51:38.198Z"), true},
		{"2020-11-10T16:51:38.198+08", utc("2020-11-10T08:51:38.198Z"), true},
		{"2020-11-10T16:51:38.198-05:30", utc("2020-11-10T22:21:38.198Z"), true},
		{"2020-11-10 16:51:38.198", 0, false},
		{"2020-11-10T16:51:38", 0, false},
		{"2020-11-10T16:51:38.5", 0, false},
		{"2020-02-30T00:00:00.000", 0, false},
		{"2020-11-10T25:00:00.000", 0, false},
		{"T", 0, false},
		{"", 0, false},
	}
	for _, tc := range tests {
		got, err := parseResetDatetime(tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("parseResetDatetime(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func FuzzParseResetDatetime(f *testing.F) {
	f.Add("2020-11-10T16:51:38.198+08:00")
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := parseResetDatetime(s)
		if err != nil {
			return
		}
		// Anything accepted names the same instant when written back in
		// UTC.
		utc := time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000")
		again, err := parseResetDatetime(utc)
		if err != nil || again != ms {
			t.Fatalf("parseResetDatetime(%q) = %d; %q gave %d, %v", s, ms, utc, again, err)
		}
	})
}

func TestParseGroupStatesAndTypes(t *testing.T) {
	states, err := parseGroupStates("stable, EMPTY,preparingrebalance,Stable")
	if err != nil || strings.Join(states, ",") != "Stable,Empty,PreparingRebalance" {
		t.Errorf("parseGroupStates = %v, %v", states, err)
	}
	types, err := parseGroupTypes("CLASSIC,consumer")
	if err != nil || strings.Join(types, ",") != "Classic,Consumer" {
		t.Errorf("parseGroupTypes = %v, %v", types, err)
	}
}

func TestResetPlanRoundTrip(t *testing.T) {
	results := map[string]map[topicPartition]int64{
		"billing":        {{"orders", 1}: 12, {"orders", 0}: 0, {"payments", 0}: 7},
		"odd, \"group\"": {{"orders", 0}: 3},
	}
	var buf bytes.Buffer
	if err := writeResetPlan(&buf, results, false); err != nil {
		t.Fatal(err)
	}
	want := "billing,orders,0,0\nbilling,orders,1,12\nbilling,payments,0,7\n\"odd, \"\"group\"\"\",orders,0,3\n\n"
	if buf.String() != want {
		t.Fatalf("export = %q, want %q", buf.String(), want)
	}
	plan, err := parseResetPlan(buf.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(plan) != fmt.Sprint(results) {
		t.Fatalf("parsed plan %v, want %v", plan, results)
	}

	// One group: the export leaves the group out, and reading it back
	// needs the one --group.
	buf.Reset()
	if err := writeResetPlan(&buf, map[string]map[topicPartition]int64{"billing": results["billing"]}, true); err != nil {
		t.Fatal(err)
	}
	if want := "orders,0,0\norders,1,12\npayments,0,7\n\n"; buf.String() != want {
		t.Fatalf("single-group export = %q, want %q", buf.String(), want)
	}
	plan, err = parseResetPlan(buf.String(), []string{"billing"})
	if err != nil || fmt.Sprint(plan) != fmt.Sprint(map[string]map[topicPartition]int64{"billing": results["billing"]}) {
		t.Fatalf("single-group plan = %v, %v", plan, err)
	}
}

func TestParseResetPlanErrors(t *testing.T) {
	tests := []struct {
		data   string
		groups []string
		want   string
	}{
		{"orders,0,1\n", nil, "line 1: 3 fields, want group,topic,partition,offset"},
		{"g,orders,0,1\norders,1,2\n", nil, "line 2: 3 fields"},
		{"orders,x,1\n", []string{"g"}, `line 1: invalid partition "x"`},
		{"orders,0,1\norders,-1,1\n", []string{"g"}, `line 2: invalid partition "-1"`},
		{"orders,0,ten\n", []string{"g"}, `line 1: invalid offset "ten"`},
		{",0,1\n", []string{"g"}, "line 1: empty topic"},
		{"\"orders,0,1\n", []string{"g"}, "quote"},
	}
	for _, tc := range tests {
		_, err := parseResetPlan(tc.data, tc.groups)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseResetPlan(%q) error = %v, want %q", tc.data, err, tc.want)
		}
	}
}

func FuzzParseResetPlan(f *testing.F) {
	f.Add("orders,0,5\norders,1,7\n", true)
	f.Fuzz(func(t *testing.T, data string, oneGroup bool) {
		var groups []string
		if oneGroup {
			groups = []string{"g"}
		}
		plan, err := parseResetPlan(data, groups)
		if err != nil {
			return
		}
		// A plan that was read writes out and reads back unchanged.
		var buf bytes.Buffer
		if err := writeResetPlan(&buf, plan, false); err != nil {
			t.Fatal(err)
		}
		again, err := parseResetPlan(buf.String(), nil)
		if err != nil {
			t.Fatalf("re-reading %q: %v", buf.String(), err)
		}
		if len(plan) > 0 && fmt.Sprint(again) != fmt.Sprint(plan) {
			t.Fatalf("plan %v came back as %v", plan, again)
		}
	})
}

func TestAssignmentString(t *testing.T) {
	tps := []topicPartition{{"payments", 1}, {"orders", 2}, {"orders", 0}}
	if got := assignmentString(tps); got != "orders:0,2;payments:1" {
		t.Errorf("assignmentString = %q", got)
	}
	if got := assignmentString(nil); got != "-" {
		t.Errorf("assignmentString(nil) = %q", got)
	}
}

// The expected tables below are Kafka's format strings from
// kafka-consumer-groups.sh applied to the same values.

func TestWriteOffsets(t *testing.T) {
	rows := []offsetRow{
		{group: "payments-service", tp: topicPartition{"orders", 0}, leaderEpoch: 4, offset: 3, logEnd: 5, consumerID: "consumer-1-8f3a", host: "/127.0.0.1", clientID: "reader"},
		{group: "payments-service", tp: topicPartition{"orders", 1}, leaderEpoch: -1, offset: -1, logEnd: 5, consumerID: "consumer-1-8f3a", host: "/127.0.0.1", clientID: "reader"},
		{group: "payments-service", tp: topicPartition{"refunds-and-chargebacks", 0}, leaderEpoch: -1, offset: 7, logEnd: -1, consumerID: "-", host: "-", clientID: "-"},
	}
	var buf bytes.Buffer
	writeOffsets(&buf, rows, false)
	want := "\nGROUP            TOPIC                   PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID" +
		"\npayments-service orders                  0          3               5               2               consumer-1-8f3a /127.0.0.1      reader" +
		"\npayments-service orders                  1          -               5               -               consumer-1-8f3a /127.0.0.1      reader" +
		"\npayments-service refunds-and-chargebacks 0          7               -               -               -               -               -\n"
	if buf.String() != want {
		t.Errorf("offsets table:\n%q\nwant\n%q", buf.String(), want)
	}

	buf.Reset()
	writeOffsets(&buf, rows[:1], true)
	want = "\nGROUP            TOPIC           PARTITION  LEADER-EPOCH    CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID" +
		"\npayments-service orders          0          4               3               5               2               consumer-1-8f3a /127.0.0.1      reader\n"
	if buf.String() != want {
		t.Errorf("verbose offsets table:\n%q\nwant\n%q", buf.String(), want)
	}
}

func TestWriteMembers(t *testing.T) {
	rows := []memberRow{
		{group: "g", consumerID: "consumer-1-8f3a", host: "/10.0.0.7", clientID: "reader", assignment: []topicPartition{{"orders", 0}, {"orders", 2}, {"payments", 1}}},
		{group: "g", consumerID: "consumer-2-77aa", host: "/10.0.0.8", clientID: "reader"},
	}
	tests := []struct {
		name    string
		rows    []memberRow
		verbose bool
		want    string
	}{
		{"plain", rows, false, "\nGROUP           CONSUMER-ID     HOST            CLIENT-ID       #PARTITIONS     " +
			"\ng               consumer-1-8f3a /10.0.0.7       reader          3               " +
			"\ng               consumer-2-77aa /10.0.0.8       reader          0               \n"},
		{"verbose", rows, true, "\nGROUP           CONSUMER-ID     HOST            CLIENT-ID       #PARTITIONS     CURRENT-EPOCH   CURRENT-ASSIGNMENT    TARGET-EPOCH    TARGET-ASSIGNMENT   " +
			"\ng               consumer-1-8f3a /10.0.0.7       reader          3               -               orders:0,2;payments:1 -               -                   " +
			"\ng               consumer-2-77aa /10.0.0.8       reader          0               -               -                     -               -                   \n"},
		{"static member", []memberRow{{group: "g", consumerID: "consumer-1-8f3a", instanceID: "worker-1", host: "/10.0.0.7", clientID: "reader", assignment: []topicPartition{{"orders", 0}}}}, false,
			"\nGROUP           CONSUMER-ID     GROUP-INSTANCE-ID HOST            CLIENT-ID       #PARTITIONS     " +
				"\ng               consumer-1-8f3a worker-1          /10.0.0.7       reader          1               \n"},
		{"no members", nil, false, "\nGROUP           CONSUMER-ID     HOST            CLIENT-ID       #PARTITIONS     \n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			writeMembers(&buf, tc.rows, tc.verbose)
			if buf.String() != tc.want {
				t.Errorf("members table:\n%q\nwant\n%q", buf.String(), tc.want)
			}
		})
	}
}

func TestWriteState(t *testing.T) {
	var buf bytes.Buffer
	writeState(&buf, stateRow{group: "payments-service", coordinator: "broker-1.example.com:9092  (1)", strategy: "range", state: "Stable", members: 2}, false)
	want := "\nGROUP            COORDINATOR (ID)               ASSIGNMENT-STRATEGY  STATE                #MEMBERS" +
		"\npayments-service broker-1.example.com:9092  (1) range                Stable               2\n"
	if buf.String() != want {
		t.Errorf("state table:\n%q\nwant\n%q", buf.String(), want)
	}
	buf.Reset()
	writeState(&buf, stateRow{group: "g", coordinator: "localhost:9092  (1)", state: "Empty"}, true)
	want = "\nGROUP           COORDINATOR (ID)          ASSIGNMENT-STRATEGY  STATE                GROUP-EPOCH     TARGET-ASSIGNMENT-EPOCH   #MEMBERS" +
		"\ng               localhost:9092  (1)       -                    Empty                -               -                         0\n"
	if buf.String() != want {
		t.Errorf("verbose state table:\n%q\nwant\n%q", buf.String(), want)
	}
}

func TestWriteGroupList(t *testing.T) {
	groups := []groupListing{{group: "billing", groupType: "Classic", state: "Stable"}, {group: "a-much-longer-group-name", groupType: "Classic", state: "Empty"}}
	var buf bytes.Buffer
	writeGroupList(&buf, groups, true, true)
	want := "GROUP                              TYPE                 STATE               \n" +
		"billing                            Classic              Stable              \n" +
		"a-much-longer-group-name           Classic              Empty               \n"
	if buf.String() != want {
		t.Errorf("list table:\n%q\nwant\n%q", buf.String(), want)
	}
	buf.Reset()
	writeGroupList(&buf, groups[:1], false, true)
	want = "GROUP                     STATE               \nbilling                   Stable              \n"
	if buf.String() != want {
		t.Errorf("list --state table:\n%q\nwant\n%q", buf.String(), want)
	}
}

func TestWriteNewOffsetsAndDeleteStatus(t *testing.T) {
	var buf bytes.Buffer
	writeNewOffsets(&buf, map[string]map[topicPartition]int64{"billing": {{"payments", 0}: 7, {"orders", 1}: 12, {"orders", 0}: 0}})
	want := "\nGROUP           TOPIC           PARTITION  NEW-OFFSET" +
		"\nbilling         orders          0          0" +
		"\nbilling         orders          1          12" +
		"\nbilling         payments        0          7\n"
	if buf.String() != want {
		t.Errorf("new offsets table:\n%q\nwant\n%q", buf.String(), want)
	}
	buf.Reset()
	writeDeleteOffsets(&buf, map[topicPartition]error{
		{"orders", 1}: errors.New("GROUP_SUBSCRIBED_TO_TOPIC: x"),
		{"zzz", -1}:   errors.New("UNKNOWN_TOPIC_OR_PARTITION: y"),
		{"orders", 0}: nil,
	})
	want = "\nTOPIC           PARTITION  STATUS         " +
		"\norders          0          Successful     " +
		"\norders          1          Error: GROUP_SUBSCRIBED_TO_TOPIC: x" +
		"\nzzz             -          Error: UNKNOWN_TOPIC_OR_PARTITION: y\n"
	if buf.String() != want {
		t.Errorf("delete offsets table:\n%q\nwant\n%q", buf.String(), want)
	}
}

func TestGroupsRetry(t *testing.T) {
	notReady := fmt.Errorf("describing: %w", kerr.CoordinatorNotAvailable)
	shardNotReady := &kadm.ShardErrors{Errs: []kadm.ShardError{{Err: kerr.CoordinatorLoadInProgress}}}
	mixed := &kadm.ShardErrors{Errs: []kadm.ShardError{{Err: kerr.CoordinatorLoadInProgress}, {Err: kerr.GroupAuthorizationFailed}}}
	tests := []struct {
		name      string
		errs      []error // op's answers in turn; the last one repeats
		wantCalls int
		wantErr   error
		wantTook  time.Duration
	}{
		{"success", []error{nil}, 1, nil, 0},
		{"coordinator becomes available", []error{notReady, shardNotReady, nil}, 3, nil, 150 * time.Millisecond},
		{"not retriable", []error{kerr.NonEmptyGroup}, 1, kerr.NonEmptyGroup, 0},
		{"a shard not retriable", []error{mixed}, 1, mixed, 0},
		// 50+100+200+400+800+1000+1000+1000 ms of backoff fit in 5 s;
		// the next 1 s would not.
		{"gives up at the timeout", []error{notReady}, 9, notReady, 4550 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := &groupsCommand{o: &groupsOptions{timeout: 5 * time.Second}}
				calls := 0
				start := time.Now()
				err := g.retry(t.Context(), func() error {
					e := tc.errs[min(calls, len(tc.errs)-1)]
					calls++
					return e
				})
				if calls != tc.wantCalls || err != tc.wantErr {
					t.Errorf("%d calls, err %v; want %d calls, err %v", calls, err, tc.wantCalls, tc.wantErr)
				}
				if took := time.Since(start); took != tc.wantTook {
					t.Errorf("retrying took %v, want %v", took, tc.wantTook)
				}
			})
		})
	}
}

// requireGroups skips a test when the broker has no group coordinator
// (it does not advertise JoinGroup), so the group tests run as soon as
// Runnel serves consumer groups.
func requireGroups(t *testing.T, addr string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	versions, err := kadm.NewClient(cl).ApiVersions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range versions {
		if _, ok := v.KeyMaxVersion(kmsg.JoinGroup.Int16()); !ok {
			t.Skip("the broker does not serve consumer groups yet (no JoinGroup)")
		}
	}
}

// t0 is the timestamp of the first record the group tests produce.
var t0 = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// groupsFixture is a broker with topic "orders" of two partitions holding
// five records each. Partition 0's records are stamped t0, t0+1h, … t0+4h;
// partition 1's first three likewise and its last two with the current
// time.
type groupsFixture struct {
	t    *testing.T
	addr string
}

func newGroupsFixture(t *testing.T) *groupsFixture {
	t.Helper()
	addr := startBroker(t)
	requireGroups(t, addr)
	f := &groupsFixture{t: t, addr: addr}
	mustRun(t, "", "topics", "--bootstrap-server", addr, "--create", "--topic", "orders", "--partitions", "2")
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("orders"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for p := int32(0); p < 2; p++ {
		for i := range 5 {
			ts := t0.Add(time.Duration(i) * time.Hour)
			if p == 1 && i >= 3 {
				ts = time.Time{} // stamped now by the client
			}
			recs = append(recs, &kgo.Record{Partition: p, Timestamp: ts, Value: fmt.Appendf(nil, "p%d-%d", p, i)})
		}
	}
	if err := cl.ProduceSync(t.Context(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	return f
}

// groups runs "runnel groups --bootstrap-server addr args...".
func (f *groupsFixture) groups(args ...string) result {
	f.t.Helper()
	return runCmd(f.t.Context(), "", append([]string{"groups", "--bootstrap-server", f.addr, "--timeout", "30000"}, args...)...)
}

func (f *groupsFixture) mustGroups(args ...string) result {
	f.t.Helper()
	r := f.groups(args...)
	if r.code != 0 {
		f.t.Fatalf("runnel groups %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// committed returns the group's committed offsets as "topic-partition=offset"
// pairs, read with a plain admin client.
func (f *groupsFixture) committed(group string) string {
	f.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.addr))
	if err != nil {
		f.t.Fatal(err)
	}
	defer cl.Close()
	offs, err := kadm.NewClient(cl).FetchOffsets(f.t.Context(), group)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, o := range offs.Sorted() {
		if o.Err != nil {
			f.t.Fatalf("committed offset of %s-%d: %v", o.Topic, o.Partition, o.Err)
		}
		out = append(out, fmt.Sprintf("%s-%d=%d", o.Topic, o.Partition, o.At))
	}
	return strings.Join(out, ",")
}

// startMember joins group with a franz-go consumer that reads every record
// of "orders" and then commits offsets, so that the group is Stable with
// one member owning both partitions. It returns the client (close it to
// leave the group) and its member ID.
func (f *groupsFixture) startMember(group string, commit map[int32]int64, opts ...kgo.Opt) (*kgo.Client, string) {
	f.t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(f.addr), kgo.ConsumerGroup(group), kgo.ConsumeTopics("orders"),
		kgo.ClientID("lag-reader"), kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200 * time.Millisecond)}, opts...)...)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(cl.Close)
	ctx, cancel := context.WithTimeout(f.t.Context(), 60*time.Second)
	defer cancel()
	for n := 0; n < 10; {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			f.t.Fatalf("consuming as group %s: %v", group, err)
		}
		n += fs.NumRecords()
	}
	offsets := map[string]map[int32]kgo.EpochOffset{"orders": {}}
	for p, o := range commit {
		offsets["orders"][p] = kgo.EpochOffset{Epoch: -1, Offset: o}
	}
	var commitErr error
	cl.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		commitErr = err
		if err == nil {
			for _, t := range resp.Topics {
				for _, p := range t.Partitions {
					commitErr = errors.Join(commitErr, kerr.ErrorForCode(p.ErrorCode))
				}
			}
		}
	})
	if commitErr != nil {
		f.t.Fatalf("committing as group %s: %v", group, commitErr)
	}
	member, _ := cl.GroupMetadata()
	return cl, member
}

// tableRows splits a table printed by runnel groups into its lines' fields,
// header first, dropping the blank lines Kafka's format puts between tables.
func tableRows(out string) [][]string {
	var rows [][]string
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(l) != "" {
			rows = append(rows, strings.Fields(l))
		}
	}
	return rows
}

func TestGroupsDescribeLiveGroup(t *testing.T) {
	f := newGroupsFixture(t)
	member, memberID := f.startMember("lag-readers", map[int32]int64{0: 3, 1: 2})

	// --describe: the member owns both partitions; the lag is what it has
	// committed against the end of each partition.
	r := f.mustGroups("--describe", "--group", "lag-readers")
	if !strings.HasPrefix(r.stdout, "\nGROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID ") {
		t.Fatalf("describe header:\n%q", r.stdout)
	}
	rows := tableRows(r.stdout)
	want := [][]string{
		{"GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"},
		{"lag-readers", "orders", "0", "3", "5", "2", memberID, "*", "lag-reader"},
		{"lag-readers", "orders", "1", "2", "5", "3", memberID, "*", "lag-reader"},
	}
	assertTable(t, rows, want)
	if r.stderr != "" {
		t.Errorf("describe of a stable group wrote to stderr: %q", r.stderr)
	}

	// --offsets --verbose adds the committed leader epoch.
	rows = tableRows(f.mustGroups("--describe", "--group", "lag-readers", "--offsets", "--verbose").stdout)
	if len(rows) != 3 || rows[0][3] != "LEADER-EPOCH" || rows[1][4] != "3" || rows[2][6] != "3" {
		t.Errorf("describe --offsets --verbose: %q", rows)
	}

	r = f.mustGroups("--describe", "--group", "lag-readers", "--members", "--verbose")
	assertTable(t, tableRows(r.stdout), [][]string{
		{"GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS", "CURRENT-EPOCH", "CURRENT-ASSIGNMENT", "TARGET-EPOCH", "TARGET-ASSIGNMENT"},
		{"lag-readers", memberID, "*", "lag-reader", "2", "-", "orders:0,1", "-", "-"},
	})

	r = f.mustGroups("--describe", "--group", "lag-readers", "--state")
	rows = tableRows(r.stdout)
	assertTable(t, rows, [][]string{
		{"GROUP", "COORDINATOR", "(ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS"},
		{"lag-readers", "*", "*", "cooperative-sticky", "Stable", "1"},
	})
	if len(rows) == 2 && !regexp.MustCompile(`^\(\d+\)$`).MatchString(rows[1][2]) {
		t.Errorf("coordinator id column %q", rows[1][2])
	}

	// --list, with and without the state and type columns.
	if r := f.mustGroups("--list"); r.stdout != "lag-readers\n" {
		t.Errorf("--list = %q", r.stdout)
	}
	assertTable(t, tableRows(f.mustGroups("--list", "--state").stdout), [][]string{{"GROUP", "STATE"}, {"lag-readers", "Stable"}})
	assertTable(t, tableRows(f.mustGroups("--list", "--state", "empty").stdout), [][]string{{"GROUP", "STATE"}})
	assertTable(t, tableRows(f.mustGroups("--list", "--type", "--state", "stable").stdout), [][]string{{"GROUP", "TYPE", "STATE"}, {"lag-readers", "Classic", "Stable"}})

	// An active group is neither reset nor deleted.
	r = f.groups("--reset-offsets", "--group", "lag-readers", "--topic", "orders", "--to-earliest", "--execute")
	assertOneLineError(t, r, "Assignments can only be reset if the group 'lag-readers' is inactive, but the current state is Stable.")
	r = f.groups("--delete", "--group", "lag-readers")
	assertOneLineError(t, r, "Group 'lag-readers' could not be deleted due to: NON_EMPTY_GROUP")
	if got := f.committed("lag-readers"); got != "orders-0=3,orders-1=2" {
		t.Fatalf("refused reset or delete changed the offsets: %s", got)
	}

	// Once the member leaves, the offsets remain, with no consumer.
	member.Close()
	r = f.mustGroups("--describe", "--group", "lag-readers")
	assertTable(t, tableRows(r.stdout), [][]string{
		want[0],
		{"lag-readers", "orders", "0", "3", "5", "2", "-", "-", "-"},
		{"lag-readers", "orders", "1", "2", "5", "3", "-", "-", "-"},
	})
	if r.stderr != "Consumer group 'lag-readers' has no active members.\n" {
		t.Errorf("describe of an empty group: stderr %q", r.stderr)
	}
	r = f.mustGroups("--describe", "--group", "lag-readers", "--members")
	assertTable(t, tableRows(r.stdout), [][]string{{"GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS"}})

	// A group that does not exist is an error naming it.
	r = f.groups("--describe", "--group", "ghosts")
	assertOneLineError(t, r, "Consumer group 'ghosts' does not exist.")
	r = f.groups("--describe", "--group", "ghosts", "--state")
	assertOneLineError(t, r, "Consumer group 'ghosts' does not exist.")
}

func TestGroupsDescribeStaticMember(t *testing.T) {
	f := newGroupsFixture(t)
	_, memberID := f.startMember("statics", map[int32]int64{0: 5, 1: 5}, kgo.InstanceID("worker-1"), kgo.Balancers(kgo.RangeBalancer()))
	r := f.mustGroups("--describe", "--group", "statics", "--members")
	assertTable(t, tableRows(r.stdout), [][]string{
		{"GROUP", "CONSUMER-ID", "GROUP-INSTANCE-ID", "HOST", "CLIENT-ID", "#PARTITIONS"},
		{"statics", memberID, "worker-1", "*", "lag-reader", "2"},
	})
	r = f.mustGroups("--describe", "--group", "statics", "--state")
	assertTable(t, tableRows(r.stdout), [][]string{
		{"GROUP", "COORDINATOR", "(ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS"},
		{"statics", "*", "*", "range", "Stable", "1"},
	})
	// Caught up: no lag.
	r = f.mustGroups("--describe", "--group", "statics")
	assertTable(t, tableRows(r.stdout)[1:], [][]string{
		{"statics", "orders", "0", "5", "5", "0", memberID, "*", "lag-reader"},
		{"statics", "orders", "1", "5", "5", "0", memberID, "*", "lag-reader"},
	})
}

// assertLines checks that the non-blank lines of out start with the
// prefixes in want, one for one.
func assertLines(t *testing.T, out string, want []string) {
	t.Helper()
	var got []string
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(l) != "" {
			got = append(got, l)
		}
	}
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = strings.HasPrefix(got[i], want[i])
	}
	if !ok {
		t.Errorf("lines\n%q\nwant prefixes\n%q", got, want)
	}
}

// assertTable compares table fields; "*" in want matches any field.
func assertTable(t *testing.T, got, want [][]string) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = len(got[i]) == len(want[i])
		for j := 0; ok && j < len(got[i]); j++ {
			ok = want[i][j] == "*" || got[i][j] == want[i][j]
		}
	}
	if !ok {
		t.Errorf("table\n%q\nwant\n%q", got, want)
	}
}

func TestGroupsResetOffsets(t *testing.T) {
	f := newGroupsFixture(t)
	member, _ := f.startMember("resetters", map[int32]int64{0: 3, 1: 2})
	member.Close()
	reset := func(args ...string) result {
		t.Helper()
		return f.mustGroups(append([]string{"--reset-offsets", "--group", "resetters"}, args...)...)
	}
	newOffsets := func(r result) string {
		t.Helper()
		rows := tableRows(r.stdout)
		if len(rows) == 0 || strings.Join(rows[0], " ") != "GROUP TOPIC PARTITION NEW-OFFSET" {
			t.Fatalf("reset output:\n%s", r.stdout)
		}
		var out []string
		for _, row := range rows[1:] {
			out = append(out, fmt.Sprintf("%s-%s=%s", row[1], row[2], row[3]))
		}
		return strings.Join(out, ",")
	}

	tests := []struct {
		name       string
		args       []string
		printed    string // the NEW-OFFSET table
		committed  string // after the command
		stderrHas  string
		stdoutFull string
	}{
		{name: "dry run changes nothing", args: []string{"--topic", "orders", "--to-earliest", "--dry-run"},
			printed: "orders-0=0,orders-1=0", committed: "orders-0=3,orders-1=2"},
		{name: "without --execute nothing changes", args: []string{"--topic", "orders", "--to-earliest"},
			printed: "orders-0=0,orders-1=0", committed: "orders-0=3,orders-1=2", stderrHas: "No action will be performed as the --execute option is missing"},
		{name: "to earliest", args: []string{"--topic", "orders", "--to-earliest", "--execute"},
			printed: "orders-0=0,orders-1=0", committed: "orders-0=0,orders-1=0"},
		{name: "to latest", args: []string{"--topic", "orders", "--to-latest", "--execute"},
			printed: "orders-0=5,orders-1=5", committed: "orders-0=5,orders-1=5"},
		{name: "to offset", args: []string{"--topic", "orders", "--to-offset", "1", "--execute"},
			printed: "orders-0=1,orders-1=1", committed: "orders-0=1,orders-1=1"},
		{name: "to offset past the end", args: []string{"--topic", "orders:0", "--to-offset", "99", "--execute"},
			printed: "orders-0=5", committed: "orders-0=5,orders-1=1", stderrHas: "New offset (99) is higher than latest offset for topic partition orders-0. Value will be set to 5."},
		{name: "shift by", args: []string{"--all-topics", "--shift-by", "-2", "--execute"},
			printed: "orders-0=3,orders-1=0", committed: "orders-0=3,orders-1=0", stderrHas: "New offset (-1) is lower than earliest offset for topic partition orders-1. Value will be set to 0."},
		{name: "one partition", args: []string{"--topic", "orders:1", "--shift-by", "4", "--execute"},
			printed: "orders-1=4", committed: "orders-0=3,orders-1=4"},
		{name: "to current", args: []string{"--topic", "orders", "--to-current", "--execute"},
			printed: "orders-0=3,orders-1=4", committed: "orders-0=3,orders-1=4"},
		{name: "to datetime with zone", args: []string{"--topic", "orders", "--to-datetime", "2020-01-01T03:00:00.000+01:00", "--execute"},
			printed: "orders-0=2,orders-1=2", committed: "orders-0=2,orders-1=2"},
		{name: "to datetime in UTC", args: []string{"--topic", "orders", "--to-datetime", "2020-01-01T03:00:00.000", "--execute"},
			printed: "orders-0=3,orders-1=3", committed: "orders-0=3,orders-1=3"},
		{name: "by duration", args: []string{"--topic", "orders", "--by-duration", "P1D", "--execute"},
			printed: "orders-0=5,orders-1=3", committed: "orders-0=5,orders-1=3", stderrHas: "Warn: Partition 0 from topic orders is empty. Falling back to latest known offset."},
		{name: "export", args: []string{"--topic", "orders", "--to-offset", "4", "--dry-run", "--export"},
			committed: "orders-0=5,orders-1=3", stdoutFull: "orders,0,4\norders,1,4\n\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := reset(tc.args...)
			if tc.stdoutFull != "" {
				if r.stdout != tc.stdoutFull {
					t.Errorf("stdout %q, want %q", r.stdout, tc.stdoutFull)
				}
			} else if got := newOffsets(r); got != tc.printed {
				t.Errorf("printed %s, want %s", got, tc.printed)
			}
			if got := f.committed("resetters"); got != tc.committed {
				t.Errorf("committed %s, want %s", got, tc.committed)
			}
			if !strings.Contains(r.stderr, tc.stderrHas) {
				t.Errorf("stderr %q lacks %q", r.stderr, tc.stderrHas)
			}
		})
	}

	// --from-file applies an exported plan.
	plan := filepath.Join(t.TempDir(), "plan.csv")
	if err := os.WriteFile(plan, []byte(reset("--topic", "orders", "--to-offset", "4", "--export").stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := newOffsets(reset("--from-file", plan, "--execute")); got != "orders-0=4,orders-1=4" {
		t.Errorf("--from-file printed %s", got)
	}
	if got := f.committed("resetters"); got != "orders-0=4,orders-1=4" {
		t.Errorf("after --from-file committed %s", got)
	}

	// A group that does not exist yet gets offsets; --to-current starts it
	// at the end where nothing is committed.
	if got := newOffsets(f.mustGroups("--reset-offsets", "--group", "newcomers", "--topic", "orders", "--to-current", "--execute")); got != "orders-0=5,orders-1=5" {
		t.Errorf("reset of a new group printed %s", got)
	}
	if got := f.committed("newcomers"); got != "orders-0=5,orders-1=5" {
		t.Errorf("new group committed %s", got)
	}

	// Partitions that do not exist, and shifting without a committed offset.
	assertOneLineError(t, f.groups("--reset-offsets", "--group", "resetters", "--topic", "orders:7", "--to-earliest", "--execute"), `The partitions "orders-7" do not exist`)
	assertOneLineError(t, f.groups("--reset-offsets", "--group", "nobody", "--topic", "orders", "--shift-by", "1", "--execute"), "cannot shift offset for partition orders-0 since there is no current committed offset")
	if got := f.committed("resetters"); got != "orders-0=4,orders-1=4" {
		t.Errorf("failed resets changed offsets: %s", got)
	}
}

func TestGroupsDeleteOffsetsAndGroups(t *testing.T) {
	f := newGroupsFixture(t)
	member, _ := f.startMember("cleanup", map[int32]int64{0: 1, 1: 1})

	// Offsets of a topic the group is subscribed to stay while it is
	// active.
	r := f.groups("--delete-offsets", "--group", "cleanup", "--topic", "orders")
	assertOneLineError(t, r, "Encountered some partition-level error, see the follow-up details.")
	assertLines(t, r.stdout, []string{
		"TOPIC           PARTITION  STATUS",
		"orders          0          Error: GROUP_SUBSCRIBED_TO_TOPIC: ",
		"orders          1          Error: GROUP_SUBSCRIBED_TO_TOPIC: ",
	})
	member.Close()

	r = f.mustGroups("--delete-offsets", "--group", "cleanup", "--topic", "orders:0")
	if !strings.HasPrefix(r.stdout, "Request succeeded for deleting offsets from group cleanup.\n") {
		t.Errorf("delete-offsets printed %q", r.stdout)
	}
	assertTable(t, tableRows(r.stdout)[1:], [][]string{{"TOPIC", "PARTITION", "STATUS"}, {"orders", "0", "Successful"}})
	if got := f.committed("cleanup"); got != "orders-1=1" {
		t.Fatalf("after deleting partition 0's offset: %s", got)
	}
	r = f.groups("--delete-offsets", "--group", "cleanup", "--topic", "missing-topic")
	assertOneLineError(t, r, "partition-level error")
	assertLines(t, r.stdout, []string{"TOPIC           PARTITION  STATUS", "missing-topic   -          Error: UNKNOWN_TOPIC_OR_PARTITION: "})

	r = f.mustGroups("--delete", "--group", "cleanup")
	if r.stdout != "Deletion of requested consumer groups ('cleanup') was successful.\n" {
		t.Errorf("delete printed %q", r.stdout)
	}
	assertOneLineError(t, f.groups("--describe", "--group", "cleanup"), "Consumer group 'cleanup' does not exist.")
	r = f.groups("--delete", "--group", "cleanup")
	assertOneLineError(t, r, "Group 'cleanup' could not be deleted due to: GROUP_ID_NOT_FOUND")
	if r := f.mustGroups("--list"); r.stdout != "" {
		t.Errorf("--list after delete = %q", r.stdout)
	}
}

func TestGroupsAllGroups(t *testing.T) {
	f := newGroupsFixture(t)
	for _, g := range []string{"beta", "alpha"} {
		f.mustGroups("--reset-offsets", "--group", g, "--topic", "orders", "--to-earliest", "--execute")
	}
	if r := f.mustGroups("--list"); r.stdout != "alpha\nbeta\n" {
		t.Fatalf("--list = %q", r.stdout)
	}
	r := f.mustGroups("--describe", "--all-groups")
	var groups []string
	for _, row := range tableRows(r.stdout) {
		if row[0] != "GROUP" {
			groups = append(groups, row[0]+"-"+row[2]+"="+row[3])
		}
	}
	if got := strings.Join(groups, ","); got != "alpha-0=0,alpha-1=0,beta-0=0,beta-1=0" {
		t.Errorf("describe --all-groups rows %s:\n%s", got, r.stdout)
	}
	r = f.mustGroups("--reset-offsets", "--all-groups", "--all-topics", "--to-latest", "--execute")
	if rows := tableRows(r.stdout); len(rows) != 5 {
		t.Errorf("reset --all-groups:\n%s", r.stdout)
	}
	for _, g := range []string{"alpha", "beta"} {
		if got := f.committed(g); got != "orders-0=5,orders-1=5" {
			t.Errorf("group %s committed %s", g, got)
		}
	}
	r = f.mustGroups("--delete", "--all-groups")
	if r.stdout != "Deletion of requested consumer groups ('alpha', 'beta') was successful.\n" {
		t.Errorf("delete --all-groups printed %q", r.stdout)
	}
}
