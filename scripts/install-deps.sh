#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine: Debian packages
# (only those missing) and the Node clients of the compatibility suite.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || command -v "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	echo "installing Debian packages: ${missing[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

if [ -f compat/node/package-lock.json ] && [ ! -d compat/node/node_modules ]; then
	(cd compat/node && npm ci --no-audit --no-fund --loglevel=error)
fi
