#!/usr/bin/env bash
# Runs every fuzz target of the module for a fixed time each (default 10s).
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${1:-10s}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
grep -rl --include='*_test.go' '^func Fuzz' . | grep -v '^./compat/' | sort | while read -r file; do
	pkg="./$(dirname "${file#./}")"
	grep -o '^func Fuzz[A-Za-z0-9_]*' "$file" | sed 's/^func //' | while read -r target; do
		echo "fuzz $pkg $target ($fuzztime)"
		# Go's fuzz coordinator sometimes gives up on a worker that is slow
		# to stop on a loaded machine ("context deadline exceeded", no
		# failing input): that is not a finding, so the target runs once
		# more. A real finding writes its failing input and fails at once.
		for attempt in 1 2; do
			if go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg" >"$log" 2>&1; then
				break
			fi
			if [ "$attempt" = 1 ] && grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
				echo "fuzz $pkg $target: the fuzz coordinator timed out on a worker (no failing input); once more"
				continue
			fi
			cat "$log"
			exit 1
		done
	done
done
