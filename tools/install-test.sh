#!/usr/bin/env bash
# Build the collection tarball, install it into an empty collections path and run the demo
# playbook from the installed copy, proving the published artifact works on its own
# (nothing is resolved from the checkout).
# Environment: VENV (default .venv).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
venv=$(realpath -m "${VENV:-$root/.venv}")
version=$(sed -n 's/^version:[[:space:]]*//p' "$root/galaxy.yml")
tarball="$root/build/pyetcd-etcd-$version.tar.gz"

work=$(mktemp -d "${TMPDIR:-/tmp}/pyetcd-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
export ANSIBLE_HOME="$work/home"
export ANSIBLE_COLLECTIONS_PATH="$work/collections"
# Keep ansible from finding a copy of the collection inside the virtualenv's site-packages.
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false

"$venv/bin/ansible-galaxy" collection install --offline -p "$ANSIBLE_COLLECTIONS_PATH" "$tarball"
installed="$ANSIBLE_COLLECTIONS_PATH/ansible_collections/pyetcd/etcd"
"$venv/bin/ansible-galaxy" collection list pyetcd.etcd

# Nothing developers keep locally may leak into the artifact.
for unwanted in .venv .git tests/output bench/results/raw .cache build; do
    if [ -e "$installed/$unwanted" ]; then
        echo "install-test: $unwanted must not be in the built collection" >&2
        exit 1
    fi
done

cd "$installed"
# Both stores, as `make demo` runs it.
# The inner script is single-quoted on purpose: bash -c expands it, with the arguments after it.
# shellcheck disable=SC2016
"$venv/bin/python" tests/harness/etcd_server.py -- bash -c '
    set -e
    for api in v2 v3; do
        echo "== installed collection: demo/site.yml on the etcd $api store"
        PYETCD_API_VERSION=$api "$1" -i demo/inventory.yml demo/site.yml
    done' install-test "$venv/bin/ansible-playbook"
