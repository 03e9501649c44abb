#!/usr/bin/env bash
# Creates the examples' two virtual environments from the hashed lock
# files: .venv (requirements.txt: websockets, for tts_agent.py) and
# .venv-pipecat (requirements-pipecat.txt: pipecat-ai and its tree, for
# pipecat_echo.py). pip installs with --require-hashes from PyPI only; the
# sdist-only packages are built with the pinned setuptools and wheel of
# requirements-build.txt (--no-build-isolation). An environment is rebuilt
# only when its lock file is newer than it.
set -euo pipefail
cd "$(dirname "$0")"

make_venv() {
	local dir=$1 req=$2
	if [ -f "$dir/.installed" ] && [ "$dir/.installed" -nt "$req" ] && [ "$dir/.installed" -nt requirements-build.txt ]; then
		return
	fi
	rm -rf "$dir"
	python3 -m venv "$dir"
	local pip=("$dir/bin/python" -m pip --disable-pip-version-check --no-input -q)
	"${pip[@]}" install --require-hashes --no-deps -r requirements-build.txt
	"${pip[@]}" install --require-hashes --no-build-isolation -r "$req"
	touch "$dir/.installed"
}

make_venv .venv requirements.txt
make_venv .venv-pipecat requirements-pipecat.txt
