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
		go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg" >"$log" 2>&1 || { cat "$log"; exit 1; }
	done
done
