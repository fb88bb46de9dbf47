#!/usr/bin/env bash
# franz-go's own pkg/kgo integration tests against a running Runnel server
# at $COMPAT_BOOTSTRAP. The franz-go version is the one this module
# requires; its source comes from the Go module cache and is copied to a
# temporary folder (the cache is read-only and the tests need the module's
# own go.mod). Nothing of franz-go is kept in this repository.
#
# Only the tests named in kgo-allowlist.txt run, and each must pass: a
# failure or a skip of a listed test fails this driver. The file's
# [excluded] section names the tests left out and why.
#
# COMPAT_KGO_RUN=<regex> runs that selection instead and only reports it
# (for deciding what belongs in the allowlist); it never fails on test
# results.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
B=${COMPAT_BOOTSTRAP:?COMPAT_BOOTSTRAP must name the server, host:port}
list="$here/kgo-allowlist.txt"
work=$(mktemp -d "${COMPAT_TMP:-${TMPDIR:-/tmp}}/kgo.XXXXXX")
# Under run.sh the suite's temporary folder is removed as a whole.
if [ -z "${COMPAT_TMP:-}" ] && [ -z "${COMPAT_KGO_RUN:-}" ]; then
	trap 'rm -rf "$work"' EXIT
fi

die() {
	echo "kgo: $*" >&2
	exit 1
}

# The allowlist: names before the [excluded] line must pass.
allowed=()
excluded=()
section=allowed
while IFS= read -r line || [ -n "$line" ]; do
	line=${line%%#*}
	name=$(awk '{ print $1 }' <<<"$line")
	[ -n "$name" ] || continue
	if [ "$name" = "[excluded]" ]; then
		section=excluded
		continue
	fi
	if [ "$section" = allowed ]; then
		allowed+=("$name")
	else
		excluded+=("$name")
	fi
done <"$list"
[ "${#allowed[@]}" -gt 0 ] || die "no tests listed in $list"

cd "$root"
go mod download github.com/twmb/franz-go
src=$(go list -m -f '{{.Dir}}' github.com/twmb/franz-go)
version=$(go list -m -f '{{.Version}}' github.com/twmb/franz-go)
[ -d "$src/pkg/kgo" ] || die "franz-go $version has no pkg/kgo in $src"
echo "kgo: franz-go $version from $src"
cp -R "$src" "$work/franz-go"
chmod -R u+w "$work/franz-go"

# Every listed name must be a test in this franz-go version, or the
# allowlist silently runs less than it claims.
for name in "${allowed[@]}" "${excluded[@]}"; do
	grep -qE "^func $name\(t \*testing\.T\)" "$work"/franz-go/pkg/kgo/*_test.go ||
		die "$name (in $(basename "$list")) is not a test in franz-go $version pkg/kgo"
done

if [ -n "${COMPAT_KGO_RUN:-}" ]; then
	regex=$COMPAT_KGO_RUN
else
	regex="^($(
		IFS='|'
		echo "${allowed[*]}"
	))\$"
fi

cd "$work/franz-go"
out="$work/go-test.out"
status=0
KGO_SEEDS=$B KGO_TEST_RF=1 KGO_TEST_RECORDS=10000 GOFLAGS="${GOFLAGS:-} -mod=mod" \
	go test ./pkg/kgo/ -run "$regex" -count=1 -v -timeout 10m >"$out" 2>&1 || status=$?

# Top-level results: "--- PASS: TestX (1.2s)" at the start of a line.
declare -A result
while read -r verdict name; do
	result[$name]=$verdict
done < <(sed -nE 's/^--- (PASS|FAIL|SKIP): ([A-Za-z0-9_]+) .*/\1 \2/p' "$out")

if [ -n "${COMPAT_KGO_RUN:-}" ]; then
	for name in "${!result[@]}"; do
		echo "${result[$name]} $name"
	done | sort
	echo "kgo: go test exited with $status; full output in $out"
	exit 0
fi

failures=0
for name in "${allowed[@]}"; do
	case ${result[$name]:-} in
	PASS) echo "ok   $name" ;;
	SKIP)
		echo "FAIL $name: skipped; an allowlisted test must run"
		failures=$((failures + 1))
		;;
	FAIL)
		echo "FAIL $name"
		failures=$((failures + 1))
		;;
	*)
		echo "FAIL $name: no result (the run stopped before it finished; go test exited with $status)"
		failures=$((failures + 1))
		;;
	esac
done

if [ "$failures" != 0 ] || [ "$status" != 0 ]; then
	echo "---- go test output (last 300 lines)"
	tail -n 300 "$out"
	echo "----"
	echo "kgo: $failures allowlisted test(s) failed; go test exited with $status"
	exit 1
fi
echo "kgo: ${#allowed[@]} allowlisted tests passed (${#excluded[@]} excluded)"
