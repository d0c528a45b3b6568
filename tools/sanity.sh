#!/usr/bin/env bash
# Run `ansible-test sanity` on a copy of the working tree, without network access beyond PyPI.
#
# ansible-test only works when the collection sits at .../ansible_collections/pyetcd/etcd and
# treats everything under that directory as collection content, so the working tree (including
# uncommitted changes) is copied there minus local state: the virtualenv, git metadata, caches
# and test output. Extra arguments go to ansible-test, e.g. `tools/sanity.sh --test pep8`.
# Environment: VENV (default .venv).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
venv=$(realpath -m "${VENV:-$root/.venv}")
python_version=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')

"$root/tools/pip-bootstrap.sh" "$venv"

work=$(mktemp -d "${TMPDIR:-/tmp}/pyetcd-sanity.XXXXXX")
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/pyetcd/etcd"
mkdir -p "$dest"
# Tracked files plus new ones git does not ignore: local venvs (bench/.venv...) and caches stay out.
# (Files deleted in the work tree but still tracked are skipped.)
(
    cd "$root"
    git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' file; do
            if [ -e "$file" ]; then printf '%s\0' "$file"; fi
        done |
        tar --null -T - -cf -
) | tar -C "$dest" -xf -

cd "$dest"
# --venv: ansible-test builds its own pinned tool environments (pylint, pep8, yamllint, ...)
# with the bootstrap stand-in above and packages from PyPI.
"$venv/bin/ansible-test" sanity --venv --python "$python_version" --color no "$@"
