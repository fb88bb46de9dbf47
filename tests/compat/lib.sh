# shellcheck shell=bash
# Shared shell helpers for the compatibility suite: free ports, starting a
# `runnel server` process, waiting for it to answer and stopping it by its
# PID. Sourced by run.sh and by drivers that need a server of their own.
# bash only; callers use `set -euo pipefail`.

# compat_python is the interpreter the Debian client packages install into.
compat_python=/usr/bin/python3

# compat_die prints a message on stderr and exits non-zero.
compat_die() {
	echo "compat: $*" >&2
	exit 1
}

# compat_free_port prints a TCP port on 127.0.0.1 that was free a moment ago.
compat_free_port() {
	"$compat_python" - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

# compat_start_server BIN PORT DATADIR LOG [extra server args...]
# starts `BIN server` in the background on 127.0.0.1:PORT with its data in
# DATADIR and its stderr (and stdout) in LOG. The PID is left in
# COMPAT_SERVER_PID; the process is a child of the calling shell so that
# compat_stop_server can collect its exit status.
compat_start_server() {
	local bin=$1 port=$2 datadir=$3 log=$4
	shift 4
	mkdir -p "$datadir"
	"$bin" server \
		--override "listeners=PLAINTEXT://127.0.0.1:$port" \
		--override "log.dirs=$datadir" \
		--override "connect.listeners=http://127.0.0.1:0" \
		"$@" >"$log" 2>&1 &
	# shellcheck disable=SC2034 # read by the caller
	COMPAT_SERVER_PID=$!
}

# compat_wait_ready PID PORT TIMEOUT_SECONDS waits until the server
# answers a Kafka metadata request on 127.0.0.1:PORT. It fails early when
# the process has exited.
compat_wait_ready() {
	local pid=$1 port=$2 limit=$3
	local deadline=$((SECONDS + limit))
	while ((SECONDS < deadline)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "server (pid $pid) exited before answering on port $port" >&2
			return 1
		fi
		if kcat -b "127.0.0.1:$port" -L -m 2 -q >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.2
	done
	echo "server (pid $pid) did not answer a metadata request on port $port within ${limit}s" >&2
	return 1
}

# compat_stop_server PID LOG TIMEOUT_SECONDS sends SIGTERM and checks that
# the server exits by itself within the timeout, with a clean status (0, or
# 130, which runnel documents as its status after an interrupt), and without
# a panic or a data race in its log. 143 is refused: for a Go program it
# means the signal killed the process before it could shut down. On a
# timeout the server is killed.
compat_stop_server() {
	local pid=$1 log=$2 limit=$3
	if ! kill -0 "$pid" 2>/dev/null; then
		local st=0
		wait "$pid" || st=$?
		echo "server (pid $pid) had already exited with status $st before SIGTERM" >&2
		return 1
	fi
	kill -TERM "$pid"
	local deadline=$((SECONDS + limit))
	while kill -0 "$pid" 2>/dev/null; do
		if ((SECONDS >= deadline)); then
			kill -KILL "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
			echo "server (pid $pid) did not exit within ${limit}s of SIGTERM; killed" >&2
			return 1
		fi
		sleep 0.1
	done
	local status=0
	wait "$pid" || status=$?
	case $status in
	0 | 130) ;;
	*)
		echo "server (pid $pid) exited with status $status after SIGTERM" >&2
		return 1
		;;
	esac
	if grep -qE '^(panic:|fatal error:)|WARNING: DATA RACE' "$log"; then
		echo "server (pid $pid) log shows a panic or a data race" >&2
		return 1
	fi
	return 0
}
