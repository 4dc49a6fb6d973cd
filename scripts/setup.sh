#!/usr/bin/env bash
# Set-up on a fresh Debian/Ubuntu machine, quiet and idempotent:
#   the Graphviz `dot` program (apt-get), a local .venv, and this project with its dev extras
#   and its docs extras (Sphinx, to build the documentation site in docs/).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
    as_root apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

if ! command -v dot >/dev/null 2>&1; then
    echo "setup: installing Graphviz (apt-get install graphviz)"
    apt_install graphviz
fi

if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv"
    if ! python3 -m venv .venv >/dev/null 2>&1; then
        rm -rf .venv
        apt_install python3-venv
        python3 -m venv .venv
    fi
fi

echo "setup: installing Python dependencies into .venv"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev,docs]"
echo "setup: done"
