#!/usr/bin/env bash
# kcat (librdkafka) against a running Runnel server at $COMPAT_BOOTSTRAP:
# metadata listing, keyed produce with every codec read back byte for byte,
# start offsets (beginning, end, absolute, relative, out of range), headers,
# null values, offsets by timestamp, topic auto-creation both on (the main
# server, Kafka's default) and off (a second server started here from
# $RUNNEL_BIN, because the setting is broker-wide and the other drivers want
# Kafka's default), and balanced consumer groups (-G): two members split a
# topic and read each record once, a member that leaves hands over its
# partitions at the committed offsets, a restarted member resumes there,
# with the range and cooperative-sticky assignors and static members.
#
# The server must run with num.partitions=3, as run.sh starts it: the
# auto-created topics are expected to have three partitions.
#
# Prints "ok   <check>" or "FAIL <check>: <reason>" per check and exits
# non-zero when any check failed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

B=${COMPAT_BOOTSTRAP:?COMPAT_BOOTSTRAP must name the server, host:port}
work=$(mktemp -d "${COMPAT_TMP:-${TMPDIR:-/tmp}}/kcat.XXXXXX")
id=$(date +%s%N | tail -c 9)
failures=0
# noauto_pid is the second server's PID while the auto-create check runs
# (inside that check's subshell, which stops it on every path).
noauto_pid=""

# kc runs kcat against the main server with a bounded run time.
kc() {
	timeout 20 kcat -b "$B" -m 10 "$@"
}

# check NAME FUNCTION runs one check; the function prints why it failed.
check() {
	local name=$1
	shift
	local msg
	if msg=$("$@" 2>&1); then
		echo "ok   $name"
	else
		echo "FAIL $name: $msg"
		failures=$((failures + 1))
	fi
}

# same EXPECTED_FILE ACTUAL_FILE fails with a short diff when they differ.
same() {
	if ! cmp -s "$1" "$2"; then
		echo "output differs from what was produced (< produced, > consumed):"
		diff "$1" "$2" | head -n 20
		return 1
	fi
}

# lines N TAG writes N keyed lines key-I:TAG value I, ending with one line
# whose value is empty.
lines() {
	awk -v n="$1" -v tag="$2" 'BEGIN { for (i = 1; i <= n; i++) printf "key-%d:%s value %d ü\n", i, tag, i; print "key-empty:" }'
}

n=1000

# produce_codec CODEC: N keyed lines to partition 0 of an auto-created
# topic, compressed with CODEC, consumed back from the beginning: the
# output must be the input, byte for byte, in order.
produce_codec() {
	local codec=$1 topic="kcat-$1-$id"
	local z=()
	[ "$codec" = none ] || z=(-z "$codec")
	lines "$n" "$codec" >"$work/$topic.in"
	kc -P -t "$topic" -p 0 -K: "${z[@]}" -X acks=all <"$work/$topic.in" ||
		{ echo "kcat -P exited with $?"; return 1; }
	kc -C -t "$topic" -p 0 -o beginning -e -q -f '%k:%s\n' >"$work/$topic.out" ||
		{ echo "kcat -C exited with $?"; return 1; }
	same "$work/$topic.in" "$work/$topic.out"
}

for codec in none gzip snappy lz4 zstd; do
	check "produce+consume -z $codec" produce_codec "$codec"
done

# keyed: 3000 records over 50 keys with librdkafka's default partitioner on
# an auto-created topic (num.partitions=3 on the server). Every record comes
# back once, each partition in production order with dense offsets, and
# each key stays on one partition.
keyed() {
	local topic="kcat-keyed-$id"
	awk 'BEGIN { for (i = 1; i <= 3000; i++) printf "k%d:%d\n", i % 50, i }' >"$work/keyed.in"
	kc -P -t "$topic" -K: -X acks=all <"$work/keyed.in" || { echo "kcat -P exited with $?"; return 1; }
	kc -C -t "$topic" -o beginning -e -q -f '%p %o %k %s\n' >"$work/keyed.out" ||
		{ echo "kcat -C exited with $?"; return 1; }
	"$compat_python" - "$work/keyed.out" <<'EOF'
import sys, collections
parts = collections.defaultdict(list)
for line in open(sys.argv[1]):
    p, o, k, v = line.split()
    parts[int(p)].append((int(o), k, int(v)))
vals = sorted(v for recs in parts.values() for _, _, v in recs)
if vals != list(range(1, 3001)):
    sys.exit("want values 1..3000 once each, got %d records, %d distinct" % (len(vals), len(set(vals))))
if len(parts) < 2:
    sys.exit("all records landed in partitions %s; want the keys spread" % sorted(parts))
keyparts = collections.defaultdict(set)
for p, recs in parts.items():
    offs = [o for o, _, _ in recs]
    if offs != list(range(len(offs))):
        sys.exit("partition %d offsets are not 0..%d in order: %s..." % (p, len(offs) - 1, offs[:10]))
    vs = [v for _, _, v in recs]
    if vs != sorted(vs):
        sys.exit("partition %d is not in production order" % p)
    for _, k, _ in recs:
        keyparts[k].add(p)
split = {k: sorted(ps) for k, ps in keyparts.items() if len(ps) > 1}
if split:
    sys.exit("keys on more than one partition: %s" % split)
EOF
}
check "keyed produce over partitions (default partitioner)" keyed

# metadata: kcat -L names this broker and shows the auto-created topics
# with num.partitions partitions, each with a leader and an ISR.
metadata() {
	local out
	out=$(kc -L) || { echo "kcat -L exited with $?"; return 1; }
	grep -qE "^ *1 brokers:" <<<"$out" || { echo "want 1 broker in:"; echo "$out" | head; return 1; }
	grep -qE "^ *broker [0-9]+ at $B" <<<"$out" || { echo "broker at $B missing:"; echo "$out" | head; return 1; }
	local t
	for t in "kcat-keyed-$id" "kcat-none-$id" "kcat-zstd-$id"; do
		grep -q "topic \"$t\" with 3 partitions:" <<<"$out" ||
			{ echo "auto-created topic $t with 3 partitions missing:"; echo "$out"; return 1; }
	done
	local detail
	detail=$(kc -L -t "kcat-keyed-$id") || { echo "kcat -L -t exited with $?"; return 1; }
	local good
	good=$(grep -cE "partition [0-2], leader [0-9]+, replicas: [0-9]+, isrs: [0-9]+" <<<"$detail" || true)
	[ "$good" = 3 ] || { echo "want 3 partitions with leader, replicas and isrs:"; echo "$detail"; return 1; }
	if grep -q "error" <<<"$detail"; then
		echo "metadata shows an error:"
		echo "$detail"
		return 1
	fi
}
check "metadata list (-L)" metadata

# offsets: start positions on the uncompressed topic from produce_codec
# (n+1 records on partition 0).
t0="kcat-none-$id"
in0="$work/$t0.in"
offsets_end() {
	local out
	out=$(kc -C -t "$t0" -p 0 -o end -e -q -f '%o\n') || { echo "kcat -C -o end exited with $?"; return 1; }
	[ -z "$out" ] || { echo "-o end -e printed records: $(head -n 3 <<<"$out")"; return 1; }
}
offsets_absolute() {
	kc -C -t "$t0" -p 0 -o 500 -e -q -f '%k:%s\n' >"$work/abs.out" || { echo "kcat exited with $?"; return 1; }
	tail -n +501 "$in0" >"$work/abs.want"
	same "$work/abs.want" "$work/abs.out"
}
# The broker returns whole batches; starting inside a compressed one, the
# client drops the records before the asked offset.
offsets_in_batch() {
	local t="kcat-zstd-$id"
	kc -C -t "$t" -p 0 -o 500 -e -q -f '%o %k:%s\n' >"$work/inbatch.out" || { echo "kcat exited with $?"; return 1; }
	tail -n +501 "$work/$t.in" | awk '{ print NR + 499 " " $0 }' >"$work/inbatch.want"
	same "$work/inbatch.want" "$work/inbatch.out"
}
offsets_relative() {
	kc -C -t "$t0" -p 0 -o -3 -e -q -f '%k:%s\n' >"$work/rel.out" || { echo "kcat exited with $?"; return 1; }
	tail -n 3 "$in0" >"$work/rel.want"
	same "$work/rel.want" "$work/rel.out"
}
offsets_count() {
	kc -C -t "$t0" -p 0 -o beginning -c 5 -q -f '%o %k:%s\n' >"$work/cnt.out" || { echo "kcat exited with $?"; return 1; }
	head -n 5 "$in0" | awk '{ print NR - 1 " " $0 }' >"$work/cnt.want"
	same "$work/cnt.want" "$work/cnt.out"
}
offsets_out_of_range() {
	local err
	if err=$(kc -C -t "$t0" -p 0 -o 5000 -e -q -X auto.offset.reset=error -f '%o\n' 2>&1); then
		echo "want an error for offset 5000 past the end ($((n + 1)) records), got success: $err"
		return 1
	fi
	grep -qi "out of range" <<<"$err" || { echo "want OFFSET_OUT_OF_RANGE, got: $err"; return 1; }
}
# A consumer started at the end sees the next record produced, not an old
# one. Records are produced one at a time until it has read one.
offsets_live_end() {
	local out="$work/live.out"
	timeout 30 kcat -b "$B" -C -t "$t0" -p 0 -o end -c 1 -q -f '%k:%s\n' >"$out" 2>"$work/live.err" &
	local cpid=$! i
	for i in $(seq 1 40); do
		kill -0 "$cpid" 2>/dev/null || break
		echo "live-$i:after the end" | kc -P -t "$t0" -p 0 -K: || { echo "kcat -P exited with $?"; kill "$cpid"; return 1; }
		sleep 0.25
	done
	local st=0
	wait "$cpid" || st=$?
	[ "$st" = 0 ] || { echo "consumer at -o end exited with $st: $(cat "$work/live.err")"; return 1; }
	grep -qE '^live-[0-9]+:after the end$' "$out" || { echo "consumer at -o end read: $(cat "$out")"; return 1; }
	[ "$(wc -l <"$out")" = 1 ] || { echo "want one record, got: $(cat "$out")"; return 1; }
}
check "offset: -o end -e reads nothing" offsets_end
check "offset: -o 500 (absolute)" offsets_absolute
check "offset: -o 500 inside a zstd batch" offsets_in_batch
check "offset: -o -3 (relative to end)" offsets_relative
check "offset: -o beginning -c 5" offsets_count
check "offset: past the end is OFFSET_OUT_OF_RANGE" offsets_out_of_range
check "offset: -o end sees only new records" offsets_live_end

# headers and null values (-Z sends an empty value as NULL: a tombstone).
headers() {
	local topic="kcat-headers-$id"
	printf 'a:one\nb:two\n' | kc -P -t "$topic" -p 0 -K: -H h1=v1 -H "h2=value two" ||
		{ echo "kcat -P exited with $?"; return 1; }
	kc -C -t "$topic" -p 0 -o beginning -e -q -f '%h|%k:%s\n' >"$work/hdr.out" || { echo "kcat -C exited with $?"; return 1; }
	printf 'h1=v1,h2=value two|a:one\nh1=v1,h2=value two|b:two\n' >"$work/hdr.want"
	same "$work/hdr.want" "$work/hdr.out"
}
nulls() {
	local topic="kcat-null-$id"
	printf 'tomb:\nlive:x\n' | kc -P -t "$topic" -p 0 -K: -Z || { echo "kcat -P exited with $?"; return 1; }
	kc -C -t "$topic" -p 0 -o beginning -e -q -Z -f '%k %K %S %s\n' >"$work/null.out" || { echo "kcat -C exited with $?"; return 1; }
	printf 'tomb 4 -1 NULL\nlive 4 1 x\n' >"$work/null.want"
	same "$work/null.want" "$work/null.out"
}
check "headers (-H, %h)" headers
check "null value (-Z)" nulls

# timestamps: two waves produced some milliseconds apart; the broker keeps
# the producer's CreateTime, and ListOffsets by timestamp returns the first
# offset whose timestamp is at or after the one asked for.
query() { # topic partition timestamp -> offset
	local out
	out=$(kc -Q -t "$1:$2:$3") || { echo "kcat -Q $1:$2:$3 exited with $?: $out" >&2; return 1; }
	local off
	off=$(sed -nE 's/.*offset (-?[0-9]+).*/\1/p' <<<"$out" | head -n 1)
	[ -n "$off" ] || { echo "no offset in kcat -Q output: $out" >&2; return 1; }
	echo "$off"
}
timestamps() {
	local topic="kcat-ts-$id"
	seq 1 10 | sed 's/^/a:/' | kc -P -t "$topic" -p 0 -K: || { echo "kcat -P exited with $?"; return 1; }
	sleep 0.05
	seq 1 10 | sed 's/^/b:/' | kc -P -t "$topic" -p 0 -K: || { echo "kcat -P exited with $?"; return 1; }
	kc -C -t "$topic" -p 0 -o beginning -e -q -f '%o %T %k\n' >"$work/ts.out" || { echo "kcat -C exited with $?"; return 1; }
	[ "$(wc -l <"$work/ts.out")" = 20 ] || { echo "want 20 records:"; cat "$work/ts.out"; return 1; }
	local amin amax bmin bmax
	amin=$(awk '$3 == "a" { print $2 }' "$work/ts.out" | sort -n | head -n 1)
	amax=$(awk '$3 == "a" { print $2 }' "$work/ts.out" | sort -n | tail -n 1)
	bmin=$(awk '$3 == "b" { print $2 }' "$work/ts.out" | sort -n | head -n 1)
	bmax=$(awk '$3 == "b" { print $2 }' "$work/ts.out" | sort -n | tail -n 1)
	((amin > 1000000000000)) || { echo "CreateTime $amin is not a producer timestamp"; return 1; }
	((bmin > amax)) || { echo "waves overlap in time (a ends $amax, b starts $bmin)"; return 1; }
	local got want ts
	for ts in "$amin:0" "$amax:$(awk -v t="$amax" '$2 == t { print $1; exit }' "$work/ts.out")" \
		"$((amax + 1)):10" "$bmin:10" "$((bmax + 3600000)):-1" "-1:20" "-2:0"; do
		want=${ts##*:}
		got=$(query "$topic" 0 "${ts%:*}") || return 1
		[ "$got" = "$want" ] || { echo "offset for timestamp ${ts%:*}: got $got, want $want"; return 1; }
	done
	kc -C -t "$topic" -p 0 -o "s@$bmin" -e -q -f '%k\n' >"$work/ts-start.out" || { echo "kcat -C -o s@ exited with $?"; return 1; }
	if [ "$(sort -u "$work/ts-start.out")" != b ] || [ "$(wc -l <"$work/ts-start.out")" != 10 ]; then
		echo "-o s@$bmin: want the 10 b records, got: $(tr '\n' ' ' <"$work/ts-start.out")"
		return 1
	fi
}
check "offsets for times (-Q, -o s@)" timestamps

# auto.create.topics.enable=false on a second, short-lived server: an
# unknown topic is an error for consumers, producers and metadata, and is
# not created.
noauto() {
	local st=0
	noauto_steps || st=$?
	if [ -n "$noauto_pid" ] && kill -0 "$noauto_pid" 2>/dev/null; then
		kill -KILL "$noauto_pid" 2>/dev/null || true
		wait "$noauto_pid" 2>/dev/null || true
	fi
	return "$st"
}
noauto_steps() {
	local port log="$work/noauto.log" nb
	port=$(compat_free_port)
	nb="127.0.0.1:$port"
	compat_start_server "${RUNNEL_BIN:?RUNNEL_BIN must name the runnel binary}" "$port" "$work/noauto-data" "$log" \
		--override auto.create.topics.enable=false
	noauto_pid=$COMPAT_SERVER_PID
	compat_wait_ready "$noauto_pid" "$port" 30 || { tail -n 20 "$log"; return 1; }
	local out st
	st=0
	out=$(timeout 60 kcat -b "$nb" -m 10 -C -t nosuch -p 0 -o beginning -e 2>&1) || st=$?
	[ "$st" != 0 ] || { echo "consume from unknown topic succeeded: $out"; return 1; }
	grep -qi "unknown topic" <<<"$out" || { echo "consume from unknown topic: want 'Unknown topic', got: $out"; return 1; }
	st=0
	out=$(echo "k:v" | timeout 60 kcat -b "$nb" -m 10 -P -t nosuch -K: -X topic.metadata.propagation.max.ms=2000 -X message.timeout.ms=5000 2>&1) || st=$?
	[ "$st" != 0 ] || { echo "produce to unknown topic succeeded: $out"; return 1; }
	grep -qi "unknown topic" <<<"$out" || { echo "produce to unknown topic: want 'Unknown topic', got: $out"; return 1; }
	out=$(timeout 60 kcat -b "$nb" -m 10 -L -t nosuch 2>&1) || true
	grep -qi "unknown topic" <<<"$out" || { echo "kcat -L -t nosuch: want 'Unknown topic', got: $out"; return 1; }
	out=$(timeout 60 kcat -b "$nb" -m 10 -L 2>&1) || { echo "kcat -L exited non-zero: $out"; return 1; }
	if grep -q nosuch <<<"$out"; then
		echo "topic nosuch was created with auto.create.topics.enable=false:"
		echo "$out"
		return 1
	fi
	local pid=$noauto_pid
	noauto_pid=""
	compat_stop_server "$pid" "$log" 30 || { tail -n 20 "$log"; return 1; }
}
check "auto.create.topics.enable=false: unknown topic is an error" noauto

# Consumer groups: kcat -G runs librdkafka's balanced consumer. Members
# commit automatically (enable.auto.commit, the KafkaConsumer's default:
# every auto.commit.interval.ms, here 500 ms, when partitions are revoked
# and when the member closes) and start from the earliest offset when their
# group has no committed offset, so a lost commit shows up as records read
# twice. (kcat's -X tries topic properties first, so
# "-X enable.auto.commit=..." only reaches the legacy topic property of
# that name, which the KafkaConsumer ignores; it is not passed here.)

# group_member NAME GROUP TOPIC [kcat args...] starts one member in the
# background, with the partition.assignment.strategy in $group_strategy:
# its records go to $work/NAME.out (unbuffered, -u) as "partition offset
# key value", its rebalance messages to $work/NAME.err. Its PID is left in
# member_pid and added to group_pids.
group_pids=()
group_strategy=range
group_member() {
	local name=$1 group=$2 topic=$3
	shift 3
	kcat -b "$B" -m 10 -G "$group" -X partition.assignment.strategy="$group_strategy" \
		-X auto.offset.reset=earliest -X auto.commit.interval.ms=500 \
		-X heartbeat.interval.ms=500 -X session.timeout.ms=6000 \
		-u -f '%p %o %k %s\n' "$@" "$topic" >"$work/$name.out" 2>"$work/$name.err" &
	member_pid=$!
	group_pids+=("$member_pid")
}

# assignment NAME prints the partitions ("0 2") member NAME holds after its
# rebalances so far. kcat prints an eager rebalance as "...: assigned: t
# [0], t [2]" or "...: revoked: ..." (the whole assignment) and a
# cooperative one as "...: incremental assignment|revoke of N
# partition(s) (...): t [1]" (a change to it).
assignment() {
	awk '
	/^% Group .* rebalanced/ {
		rest = $0
		sub(/.*\): /, "", rest)
		mode = ""
		if ($0 ~ /\): assigned: /) { split("", held); mode = "add" }
		else if ($0 ~ /\): revoked: /) { split("", held) }
		else if ($0 ~ /incremental assignment of/) { mode = "add" }
		else if ($0 ~ /incremental revoke of/) { mode = "del" }
		while (match(rest, /\[[0-9]+\]/)) {
			p = substr(rest, RSTART + 1, RLENGTH - 2)
			rest = substr(rest, RSTART + RLENGTH)
			if (mode == "add") held[p] = 1
			else if (mode == "del") delete held[p]
		}
	}
	END { for (p in held) print p }' "$work/$1.err" | sort -n | xargs
}

# wait_for SECONDS WHAT COMMAND... runs COMMAND every 0.2 s until it
# succeeds.
wait_for() {
	local limit=$1 what=$2
	shift 2
	local deadline=$((SECONDS + limit))
	until "$@"; do
		((SECONDS < deadline)) || { echo "timed out after ${limit}s waiting for $what"; return 1; }
		sleep 0.2
	done
}

# split_between A B: both members hold partitions, none twice, all three
# between them.
split_between() {
	local a b
	a=$(assignment "$1")
	b=$(assignment "$2")
	[ -n "$a" ] && [ -n "$b" ] && [ "$(echo "$a $b" | tr ' ' '\n' | sort -n | xargs)" = "0 1 2" ]
}
exited() { ! kill -0 "$1" 2>/dev/null; }
holds_all() { [ "$(assignment "$1")" = "0 1 2" ]; }
lines_at_least() { # N FILE...
	local n=$1
	shift
	[ "$(cat "$@" | wc -l)" -ge "$n" ]
}

# group_produce TOPIC FROM TO produces keyed records k<i mod 50>:<i>.
group_produce() {
	awk -v a="$2" -v b="$3" 'BEGIN { for (i = a; i <= b; i++) printf "k%d:%d\n", i % 50, i }' |
		kc -P -t "$1" -K: -X acks=all
}

# group_want TOPIC FROM TO writes, sorted, the "partition offset key value"
# lines of the records with values FROM..TO, as a plain (groupless)
# consumer reads them.
group_want() {
	kc -C -t "$1" -o beginning -e -q -f '%p %o %k %s\n' | awk -v a="$2" -v b="$3" '$4 >= a && $4 <= b' | sort
}

# member_exit PID SECONDS WHAT waits for a member to exit by itself and
# fails unless it exits with status 0 in time (groups_balanced kills what
# is left).
member_exit() {
	wait_for "$2" "$3 to exit" exited "$1" || return 1
	local st=0
	wait "$1" || st=$?
	[ "$st" = 0 ] || { echo "$3 exited with status $st"; return 1; }
}

# stop_member PID: SIGTERM makes kcat close its consumer (a last commit and
# LeaveGroup) and exit 0.
stop_member() {
	kill -TERM "$1" 2>/dev/null || true
	member_exit "$1" 30 "group member (pid $1) after SIGTERM"
}

# groups_balanced STRATEGY runs the steps below with that
# partition.assignment.strategy: range (eager: every rebalance revokes and
# reassigns everything) or cooperative-sticky (incremental, KIP-429).
groups_balanced() {
	group_strategy=$1
	local st=0
	groups_balanced_steps || st=$?
	local pid
	for pid in "${group_pids[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	if [ "$st" != 0 ]; then
		local f
		for f in "$work"/g-*.err; do
			[ -s "$f" ] && { echo "-- $(basename "$f"):"; tail -n 8 "$f"; }
		done
	fi
	return "$st"
}
groups_balanced_steps() {
	local topic="kcat-group-$group_strategy-$id" group="kcat-group-$group_strategy-$id" n1=3000 n2=300
	# 1. Two members join and split the three partitions of a topic that
	# already has records; between them they read each record once.
	group_produce "$topic" 1 "$n1" || { echo "kcat -P exited with $?"; return 1; }
	group_member g-a "$group" "$topic"
	local apid=$member_pid
	group_member g-b "$group" "$topic"
	local bpid=$member_pid
	wait_for 60 "two members to split partitions 0 1 2" split_between g-a g-b || return 1
	wait_for 30 "$n1 records between the members" lines_at_least "$n1" "$work/g-a.out" "$work/g-b.out" || return 1
	local a b
	a=$(assignment g-a)
	b=$(assignment g-b)
	sleep 1 # any duplicate would arrive now
	group_want "$topic" 1 "$n1" >"$work/g1.want" || { echo "kcat -C exited with $?"; return 1; }
	sort "$work/g-a.out" "$work/g-b.out" >"$work/g1.got"
	same "$work/g1.want" "$work/g1.got" || { echo "(members held partitions $a and $b)"; return 1; }

	# 2. One member leaves (SIGTERM: commit, LeaveGroup): the other takes
	# every partition, resumes where the leaver committed and reads only
	# the records produced after that.
	stop_member "$apid" || return 1
	local before
	before=$(wc -l <"$work/g-b.out")
	wait_for 60 "the remaining member to hold partitions 0 1 2" holds_all g-b || return 1
	group_produce "$topic" $((n1 + 1)) $((n1 + n2)) || { echo "kcat -P exited with $?"; return 1; }
	wait_for 30 "$n2 new records at the remaining member" lines_at_least $((before + n2)) "$work/g-b.out" || return 1
	sleep 1
	group_want "$topic" $((n1 + 1)) $((n1 + n2)) >"$work/g2.want" || { echo "kcat -C exited with $?"; return 1; }
	tail -n +$((before + 1)) "$work/g-b.out" | sort >"$work/g2.got"
	same "$work/g2.want" "$work/g2.got" || { echo "(after the leave the remaining member must read only the new records)"; return 1; }

	# 3. The last member stops; more records arrive; a new member (-e:
	# exit at the end of every partition) resumes at the committed offsets
	# and reads exactly those records. A member of another group reads the
	# whole topic: groups do not share offsets.
	stop_member "$bpid" || return 1
	group_produce "$topic" $((n1 + n2 + 1)) $((n1 + 2 * n2)) || { echo "kcat -P exited with $?"; return 1; }
	group_member g-c "$group" "$topic" -e
	local cpid=$member_pid
	group_member g-other "$group-other" "$topic" -e
	local opid=$member_pid
	member_exit "$cpid" 60 "the restarted member (-e)" || return 1
	member_exit "$opid" 60 "the member of the other group (-e)" || return 1
	group_want "$topic" $((n1 + n2 + 1)) $((n1 + 2 * n2)) >"$work/g3.want" || { echo "kcat -C exited with $?"; return 1; }
	sort "$work/g-c.out" >"$work/g3.got"
	same "$work/g3.want" "$work/g3.got" || { echo "(a restarted member must resume at the committed offsets)"; return 1; }
	group_want "$topic" 1 $((n1 + 2 * n2)) >"$work/g4.want" || { echo "kcat -C exited with $?"; return 1; }
	sort "$work/g-other.out" >"$work/g4.got"
	same "$work/g4.want" "$work/g4.got" || { echo "(a new group must read the topic from the beginning)"; return 1; }
}
for strategy in range cooperative-sticky; do
	check "groups ($strategy): two -G members split a topic, leave, restart at committed offsets" groups_balanced "$strategy"
done

# groups_static: members with a group.instance.id (static membership,
# KIP-345). A static member that stops does not leave the group: its
# partitions wait for it, and the same instance started again within
# session.timeout.ms gets them back without a rebalance and resumes at its
# committed offsets, while the other member reads on undisturbed.
groups_static() {
	local st=0
	groups_static_steps || st=$?
	local pid
	for pid in "${group_pids[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	if [ "$st" != 0 ]; then
		local f
		for f in "$work"/gs-*.err; do
			[ -s "$f" ] && { echo "-- $(basename "$f"):"; tail -n 8 "$f"; }
		done
	fi
	return "$st"
}
# on_partitions "P Q" keeps the "partition offset key value" lines of
# those partitions.
on_partitions() {
	awk -v parts=" $1 " 'index(parts, " " $1 " ") > 0'
}
groups_static_steps() {
	local topic="kcat-static-$id" group="kcat-static-$id" n1=600 n2=300
	local static=(-X session.timeout.ms=10000)
	group_produce "$topic" 1 "$n1" || { echo "kcat -P exited with $?"; return 1; }
	group_member gs-a "$group" "$topic" -X group.instance.id=a "${static[@]}"
	local apid=$member_pid
	group_member gs-b "$group" "$topic" -X group.instance.id=b "${static[@]}"
	local bpid=$member_pid
	wait_for 60 "two static members to split partitions 0 1 2" split_between gs-a gs-b || return 1
	wait_for 30 "$n1 records between the members" lines_at_least "$n1" "$work/gs-a.out" "$work/gs-b.out" || return 1
	local a b before rebalances
	a=$(assignment gs-a)
	b=$(assignment gs-b)
	before=$(wc -l <"$work/gs-b.out")
	rebalances=$(grep -c rebalanced "$work/gs-b.err" || true)

	stop_member "$apid" || return 1
	group_produce "$topic" $((n1 + 1)) $((n1 + n2)) || { echo "kcat -P exited with $?"; return 1; }
	group_member gs-a2 "$group" "$topic" -X group.instance.id=a "${static[@]}"
	apid=$member_pid
	local want_a want_b
	group_want "$topic" $((n1 + 1)) $((n1 + n2)) >"$work/gs.want" || { echo "kcat -C exited with $?"; return 1; }
	on_partitions "$a" <"$work/gs.want" >"$work/gs-a.want"
	on_partitions "$b" <"$work/gs.want" >"$work/gs-b.want"
	want_a=$(wc -l <"$work/gs-a.want")
	want_b=$(wc -l <"$work/gs-b.want")
	wait_for 30 "the restarted static member to read $want_a new records" lines_at_least "$want_a" "$work/gs-a2.out" || return 1
	wait_for 30 "the other member to read $want_b new records" lines_at_least $((before + want_b)) "$work/gs-b.out" || return 1
	sleep 1
	[ "$(assignment gs-a2)" = "$a" ] ||
		{ echo "restarted static member holds partitions $(assignment gs-a2), want its own $a back"; return 1; }
	[ "$(grep -c rebalanced "$work/gs-b.err" || true)" = "$rebalances" ] ||
		{ echo "the other member was rebalanced while a static member restarted"; return 1; }
	sort "$work/gs-a2.out" >"$work/gs-a2.got"
	same "$work/gs-a.want" "$work/gs-a2.got" || { echo "(the restarted static member must resume at its committed offsets)"; return 1; }
	tail -n +$((before + 1)) "$work/gs-b.out" | sort >"$work/gs-b.got"
	same "$work/gs-b.want" "$work/gs-b.got" || { echo "(the other member must read on from where it was)"; return 1; }
	# Static members do not leave when they stop; the group drops them
	# when their session times out.
	stop_member "$apid" || return 1
	stop_member "$bpid" || return 1
}
check "groups (static members): a restarted group.instance.id gets its partitions back without a rebalance" groups_static

if [ "$failures" != 0 ]; then
	echo "kcat: $failures check(s) failed"
	exit 1
fi
echo "kcat: all checks passed"
