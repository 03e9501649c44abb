#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine: Debian packages
# whose commands are missing, and the Node, Python and Java clients of the
# compatibility suite (from npm, PyPI and Maven Central, at the exact
# versions of their lock files).
set -euo pipefail
cd "$(dirname "$0")/.."

# command:package pairs; a package is installed only when its command is
# missing, so tools installed another way (e.g. Node from elsewhere) stay.
needs=(
	node:nodejs
	npm:npm
	espeak-ng:espeak-ng
	chromium:chromium
	sipp:sip-tester
	pocketsphinx_continuous:pocketsphinx
	ip:iproute2
	python3:python3
	java:openjdk-17-jdk-headless
	mvn:maven
)
missing=()
for pair in "${needs[@]}"; do
	cmd="${pair%%:*}" pkg="${pair#*:}"
	command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done
# A CJK font, so that the console's browser-test screenshots show Chinese.
if ! fc-list :lang=zh 2>/dev/null | grep -q .; then
	missing+=(fonts-wqy-microhei)
fi
# The US English model of PocketSphinx (the speech tests) is data without a
# command: look for its model directory.
if [ ! -d /usr/share/pocketsphinx/model/en-us/en-us ]; then
	missing+=(pocketsphinx-en-us)
fi
# The PostgreSQL tests (package pgtest) start their own server with initdb
# and postgres, which Debian keeps outside PATH in
# /usr/lib/postgresql/<version>/bin: look for them in both places.
if ! command -v initdb >/dev/null 2>&1 && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
	missing+=(postgresql)
fi
# The Python suite makes virtual environments: Debian's python3 needs
# python3-venv (ensurepip) for that.
if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
	missing+=(python3-venv)
fi
if ((${#missing[@]})); then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	echo "installing Debian packages: ${missing[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ -f compat/node/package-lock.json ] && [ ! -d compat/node/node_modules ]; then
	(cd compat/node && npm ci --no-audit --no-fund --loglevel=error)
fi

# Python: two virtual environments from hashed lock files (compat/python/setup.sh).
compat/python/setup.sh
# And the stream examples' two (examples/python/setup.sh): websockets for
# the TTS agent; pipecat-ai for the Twilio serializer test.
examples/python/setup.sh

# Java: one online build that runs the suite's one server-less test brings
# every dependency, plugin and Surefire provider into the local repository;
# the suite then runs Maven offline (-o).
(cd compat/java && mvn -B -q -Dtest=ErrorCaseTest -Dsurefire.failIfNoSpecifiedTests=false test)
