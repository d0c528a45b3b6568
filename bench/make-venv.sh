#!/usr/bin/env bash
# Create (or update) the benchmark virtualenv bench/.venv from bench/requirements.txt.
# Kept apart from .venv on purpose: python-etcd, the `ansible` package (for community.general's
# lookup) and matplotlib are only for comparing against, never dependencies of the collection.
# Usage: bench/make-venv.sh [VENV_DIR]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
venv=${1:-$here/.venv}
stamp="$venv/.bench-requirements.stamp"

if [ ! -x "$venv/bin/python" ]; then
    python=$(command -v python3.11 || command -v python3 || true)
    if [ -z "$python" ]; then
        echo "bench/make-venv: neither python3.11 nor python3 found on PATH" >&2
        exit 1
    fi
    echo "bench/make-venv: creating $venv with $("$python" --version 2>&1)"
    "$python" -m venv "$venv"
fi

# Reinstall only when the requirements changed since the last successful install.
if [ ! -e "$stamp" ] || [ "$here/requirements.txt" -nt "$stamp" ] || [ "$here/../requirements.txt" -nt "$stamp" ]; then
    "$venv/bin/python" -m pip install --disable-pip-version-check --quiet --upgrade pip
    (cd "$here" && "$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r requirements.txt)
    touch "$stamp"
fi
