#!/usr/bin/env bash
# Run the demo playbook against a throwaway etcd started by the test harness.
#
# The collection is served straight from this checkout (through the symlink made by
# tools/collections-dir.sh), and ANSIBLE_HOME points at a temporary directory so the
# demo neither reads nor writes the user's ~/.ansible.
# The demo runs twice against the same etcd, unchanged: on the v2 store, then on the v3 store
# (PYETCD_API_VERSION), to show that one playbook serves both; PYETCD_API_VERSION=v3 (or v2)
# in the environment runs only that one.
# Environment: VENV (default .venv); ETCD_TEST_VERSION=3.4 runs it against Debian's etcd.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
venv=$(realpath -m "${VENV:-$root/.venv}")

ANSIBLE_COLLECTIONS_PATH=$("$root/tools/collections-dir.sh")
ANSIBLE_HOME=$(mktemp -d "${TMPDIR:-/tmp}/pyetcd-demo-home.XXXXXX")
trap 'rm -rf "$ANSIBLE_HOME"' EXIT
export ANSIBLE_COLLECTIONS_PATH ANSIBLE_HOME

cd "$root"
apis=${PYETCD_API_VERSION:-v2 v3}
# The inner script is single-quoted on purpose: bash -c expands it, with the arguments after it.
# shellcheck disable=SC2016
"$venv/bin/python" tests/harness/etcd_server.py -- bash -c '
    set -e
    playbook=$1; shift
    for api in '"$apis"'; do
        echo "== demo/site.yml on the etcd $api store (api_version: $api)"
        PYETCD_API_VERSION=$api "$playbook" -i demo/inventory.yml demo/site.yml "$@"
    done' demo "$venv/bin/ansible-playbook" "$@"
