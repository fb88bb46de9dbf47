#!/usr/bin/env bash
# The external-client compatibility suite: builds runnel, starts one
# `runnel server` on a free loopback port and runs every driver in this
# folder against it (kcat, kafka-python, confluent-kafka-python and
# franz-go's own kgo integration tests). Prints one PASS/FAIL line per
# driver and a closing "compat: N passed, M failed" line; exits non-zero on
# any failure.
#
# Environment:
#   COMPAT_ONLY="kcat kgo"   run only these drivers (names as printed)
#   COMPAT_RACE=1            build runnel with the race detector
#   COMPAT_RUNNEL_BIN=path   test this runnel binary instead of building one
#   COMPAT_KEEP=1            keep the temporary folder (data, logs) at exit
#   COMPAT_NO_INSTALL=1      never apt-get install missing client packages
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

# Debian packages that provide the external clients and the codecs
# kafka-python needs (snappy, lz4, zstd are optional imports there).
packages=(kcat python3-kafka python3-confluent-kafka python3-snappy python3-lz4 python3-zstandard)

missing_packages() {
	local missing=()
	command -v kcat >/dev/null 2>&1 || missing+=(kcat)
	if [ -x "$compat_python" ]; then
		"$compat_python" -c 'import kafka' 2>/dev/null || missing+=(python3-kafka)
		"$compat_python" -c 'import confluent_kafka' 2>/dev/null || missing+=(python3-confluent-kafka)
		"$compat_python" -c 'import snappy' 2>/dev/null || missing+=(python3-snappy)
		"$compat_python" -c 'import lz4.frame' 2>/dev/null || missing+=(python3-lz4)
		"$compat_python" -c 'import zstandard' 2>/dev/null || missing+=(python3-zstandard)
	else
		missing+=(python3-kafka python3-confluent-kafka python3-snappy python3-lz4 python3-zstandard)
	fi
	echo "${missing[@]}"
}

install_clients() {
	local missing
	missing=$(missing_packages)
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ] || [ -n "${COMPAT_NO_INSTALL:-}" ]; then
		compat_die "missing client packages: $missing (install them with: apt-get install -y ${packages[*]})"
	fi
	echo "compat: installing $missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	# shellcheck disable=SC2086
	apt-get install -y -q $missing >/dev/null
	missing=$(missing_packages)
	[ -z "$missing" ] || compat_die "still missing after apt-get install: $missing"
}

install_clients
command -v go >/dev/null 2>&1 || compat_die "go is not on PATH"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/runnel-compat.XXXXXX")
server_pid=""
server_log="$tmp/server.log"
restart_log="$tmp/server-restart.log"
log_shown=0

show_server_log() {
	[ "$log_shown" = 0 ] || return 0
	log_shown=1
	local log
	for log in "$server_log" "$restart_log"; do
		if [ -s "$log" ]; then
			echo "---- runnel server log (last 300 lines of $log)"
			tail -n 300 "$log"
			echo "----"
		fi
	done
}

cleanup() {
	local status=$?
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill -KILL "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	[ "$status" = 0 ] || show_server_log
	if [ -n "${COMPAT_KEEP:-}" ]; then
		echo "compat: kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

cd "$root"
start=$SECONDS
if [ -n "${COMPAT_RUNNEL_BIN:-}" ]; then
	cp "$COMPAT_RUNNEL_BIN" "$tmp/runnel"
else
	echo "compat: building runnel"
	build_flags=()
	[ -n "${COMPAT_RACE:-}" ] && build_flags+=(-race)
	if ! go build "${build_flags[@]}" -o "$tmp/runnel" ./cmd/runnel; then
		echo "FAIL build"
		echo "compat: 0 passed, 1 failed"
		exit 1
	fi
fi

port=$(compat_free_port)
bootstrap="127.0.0.1:$port"
# Three partitions for auto-created topics so that kcat's keyed produce
# spreads over more than one partition; everything else is Kafka's default
# (auto.create.topics.enable=true among them).
compat_start_server "$tmp/runnel" "$port" "$tmp/data" "$server_log" \
	--override num.partitions=3
server_pid=$COMPAT_SERVER_PID
echo "compat: runnel server pid $server_pid on $bootstrap"
if ! compat_wait_ready "$server_pid" "$port" 60; then
	show_server_log
	echo "FAIL server-start"
	echo "compat: 0 passed, 1 failed"
	exit 1
fi

passed=0
failed=0

record() { # name status
	if [ "$2" = 0 ]; then
		passed=$((passed + 1))
		echo "PASS $1"
	else
		failed=$((failed + 1))
		echo "FAIL $1"
	fi
}

wanted() {
	[ -z "${COMPAT_ONLY:-}" ] && return 0
	case " $COMPAT_ONLY " in *" $1 "*) return 0 ;; esac
	return 1
}

# run_driver NAME TIMEOUT_SECONDS COMMAND... runs one driver with the
# server's address in its environment and prints its output.
run_driver() {
	local name=$1 limit=$2
	shift 2
	wanted "$name" || return 0
	local out="$tmp/$name.out" t0=$SECONDS status=0
	echo "compat: running $name"
	COMPAT_BOOTSTRAP=$bootstrap COMPAT_TMP=$tmp RUNNEL_BIN="$tmp/runnel" \
		timeout --kill-after=10 "$limit" "$@" >"$out" 2>&1 || status=$?
	if [ "$status" = 124 ]; then
		echo "$name: timed out after ${limit}s" >>"$out"
	fi
	# Each driver's own lines say what it checked; shown indented.
	sed 's/^/    /' "$out"
	[ "$status" = 0 ] || echo "    $name exited with status $status"
	echo "compat: $name took $((SECONDS - t0))s"
	record "$name" "$status"
}

run_driver kcat 240 bash "$here/kcat.sh"
run_driver kafka-python 300 "$compat_python" "$here/kafka_python.py"
run_driver confluent-kafka 300 "$compat_python" "$here/confluent_kafka_py.py"
run_driver kgo 720 bash "$here/kgo.sh"

# layout FILE writes every partition of every topic with its leader,
# replicas, ISR and high watermark, one sorted line each. The high
# watermarks of the node's own bookkeeping are left out: the embedded
# Connect worker rejoins its group (__consumer_offsets) and writes its
# status (connect-*) when the node starts; committed offsets are checked
# separately below, through a consumer group.
layout() {
	local md args=() topic part
	md=$(timeout 30 kcat -b "$bootstrap" -m 10 -L -J) || { echo "kcat -L failed" >&2; return 1; }
	# shellcheck disable=SC2016
	local prog='
import json, sys
md = json.load(sys.stdin)
for t in md["topics"]:
    for p in t["partitions"]:
        print("%s %d %d %s %s" % (t["topic"], p["partition"], p["leader"],
              sorted(r["id"] for r in p["replicas"]), sorted(r["id"] for r in p["isrs"])))
'
	"$compat_python" -c "$prog" <<<"$md" | sort >"$1.parts"
	while read -r topic part _; do
		case $topic in
		__consumer_offsets | connect-*) continue ;;
		esac
		args+=(-t "$topic:$part:-1")
	done <"$1.parts"
	if [ "${#args[@]}" -gt 0 ]; then
		timeout 60 kcat -b "$bootstrap" -m 10 -Q "${args[@]}" | sort >"$1.hw" ||
			{ echo "kcat -Q failed" >&2; return 1; }
	else
		: >"$1.hw"
	fi
	cat "$1.parts" "$1.hw" >"$1"
}

# settled_layout FILE takes layouts half a second apart until two in a row
# agree: a group whose last member has just left may still be writing to
# __consumer_offsets.
settled_layout() {
	layout "$1" || return 1
	for _ in $(seq 1 10); do
		sleep 0.5
		layout "$1.again" || return 1
		cmp -s "$1" "$1.again" && return 0
		mv "$1.again" "$1"
	done
	echo "topics or high watermarks still changing before the restart"
	return 1
}

# group_read GROUP TOPIC OUT: one kcat group member reads TOPIC from the
# group's committed offsets (the beginning for a new group) to the end of
# every partition, commits as it closes, and writes the records sorted.
group_read() {
	timeout 60 kcat -b "$bootstrap" -m 10 -G "$1" -X auto.offset.reset=earliest -e -q \
		-f '%p %o %k:%s\n' "$2" | sort >"$3"
}

# A clean restart on the same data keeps every topic, partition and
# acknowledged offset: the layout and high watermarks taken before the
# shutdown must be the same after it, the records of one topic byte for
# byte, and a consumer group's committed offsets: a member started after
# the restart reads only records produced after it.
restart_check() {
	local before="$tmp/layout.before" after="$tmp/layout.after"
	local topic=compat-restart
	awk 'BEGIN { for (i = 1; i <= 300; i++) printf "k%d:restart value %d\n", i % 17, i }' |
		timeout 30 kcat -b "$bootstrap" -m 10 -P -t "$topic" -K: -X acks=all ||
		{ echo "producing to $topic failed"; return 1; }
	timeout 30 kcat -b "$bootstrap" -m 10 -C -t "$topic" -o beginning -e -q -f '%p %o %k:%s\n' |
		sort >"$tmp/restart.want" || { echo "consuming $topic failed"; return 1; }
	[ "$(wc -l <"$tmp/restart.want")" = 300 ] || { echo "read $(wc -l <"$tmp/restart.want") of 300 records"; return 1; }
	local group=compat-restart-group
	group_read "$group" "$topic" "$tmp/restart-group.before" || { echo "group member reading $topic failed"; return 1; }
	if ! cmp -s "$tmp/restart.want" "$tmp/restart-group.before"; then
		echo "group $group read other records of $topic than a plain consumer (< plain, > group):"
		diff "$tmp/restart.want" "$tmp/restart-group.before" | head -n 20
		return 1
	fi
	settled_layout "$before" || return 1

	compat_stop_server "$server_pid" "$server_log" 30 || { server_pid=""; return 1; }
	server_pid=""
	compat_start_server "$tmp/runnel" "$port" "$tmp/data" "$restart_log" --override num.partitions=3
	server_pid=$COMPAT_SERVER_PID
	compat_wait_ready "$server_pid" "$port" 60 || return 1

	layout "$after" || return 1
	if ! cmp -s "$before" "$after"; then
		echo "topics, partitions or high watermarks changed across the restart (< before, > after):"
		diff "$before" "$after" | head -n 20
		return 1
	fi
	timeout 30 kcat -b "$bootstrap" -m 10 -C -t "$topic" -o beginning -e -q -f '%p %o %k:%s\n' |
		sort >"$tmp/restart.got" || { echo "consuming $topic after the restart failed"; return 1; }
	if ! cmp -s "$tmp/restart.want" "$tmp/restart.got"; then
		echo "records of $topic changed across the restart (< before, > after):"
		diff "$tmp/restart.want" "$tmp/restart.got" | head -n 20
		return 1
	fi
	echo "$(wc -l <"$before.parts") partitions and their high watermarks survived the restart"

	awk 'BEGIN { for (i = 301; i <= 330; i++) printf "k%d:restart value %d\n", i % 17, i }' |
		timeout 30 kcat -b "$bootstrap" -m 10 -P -t "$topic" -K: -X acks=all ||
		{ echo "producing to $topic after the restart failed"; return 1; }
	timeout 30 kcat -b "$bootstrap" -m 10 -C -t "$topic" -o beginning -e -q -f '%p %o %k:%s\n' |
		sort | comm -13 "$tmp/restart.want" - >"$tmp/restart-group.want" ||
		{ echo "consuming $topic after the restart failed"; return 1; }
	[ "$(wc -l <"$tmp/restart-group.want")" = 30 ] ||
		{ echo "a plain consumer read $(wc -l <"$tmp/restart-group.want") new records of $topic, want 30"; return 1; }
	group_read "$group" "$topic" "$tmp/restart-group.after" || { echo "group member reading $topic after the restart failed"; return 1; }
	if ! cmp -s "$tmp/restart-group.want" "$tmp/restart-group.after"; then
		echo "group $group after the restart: want only the 30 new records (< want, > read):"
		diff "$tmp/restart-group.want" "$tmp/restart-group.after" | head -n 20
		return 1
	fi
	echo "group $group resumed at its committed offsets after the restart"
}

# The server must still be up after every client, stop cleanly on SIGTERM
# and come back with everything it acknowledged; then stop cleanly again.
status=0
restart_check >"$tmp/restart.out" 2>&1 || status=$?
sed 's/^/    /' "$tmp/restart.out"
record server-restart "$status"
status=0
if [ -n "$server_pid" ]; then
	compat_stop_server "$server_pid" "$restart_log" 30 || status=$?
else
	echo "    no server left to stop"
	status=1
fi
server_pid=""
record server-shutdown "$status"

[ "$failed" = 0 ] || show_server_log
echo "compat: finished in $((SECONDS - start))s"
echo "compat: $passed passed, $failed failed"
[ "$failed" = 0 ]
