#!/usr/bin/env bash
# Print a directory holding ansible_collections/pyetcd/etcd -> this checkout.
#
# Ansible only finds a collection under <path>/ansible_collections/<namespace>/<name>, and the
# repository root is the collection root, so a symlink outside the tree stands in for an
# install. The location matches what tests/conftest.py uses (same hash of the checkout path),
# so `make demo` and the tests share one link per checkout.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
tag=$(printf '%s' "$root" | sha1sum | cut -c1-10)
base="${TMPDIR:-/tmp}/pyetcd-collections-$tag"
link="$base/ansible_collections/pyetcd/etcd"

if [ "$(readlink -f "$link" 2>/dev/null || true)" != "$root" ]; then
    mkdir -p "$(dirname "$link")"
    # Replace atomically: a concurrent pytest run may be reading the same link.
    ln -s "$root" "$link.$$"
    mv -T "$link.$$" "$link"
fi
printf '%s\n' "$base"
