#!/usr/bin/env bash
# Create (or update) the development virtualenv and install requirements-test.txt into it.
# Usage: tools/make-venv.sh [VENV_DIR]   (default: .venv in the checkout)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
venv=$(realpath -m "${1:-$root/.venv}")

if [ ! -x "$venv/bin/python" ]; then
    # 3.11 is the interpreter CI and `make sanity` test with; any python3 still works for the rest.
    python=$(command -v python3.11 || command -v python3 || true)
    if [ -z "$python" ]; then
        echo "make-venv: neither python3.11 nor python3 found on PATH" >&2
        exit 1
    fi
    echo "make-venv: creating $venv with $("$python" --version 2>&1)"
    "$python" -m venv "$venv"
    # The bundled pip may predate wheels the requirements need (and an existing venv's pip is
    # left alone: other work may be using it).
    "$venv/bin/python" -m pip install --disable-pip-version-check --quiet --upgrade pip
fi

"$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$root/requirements-test.txt"
