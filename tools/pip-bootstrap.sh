#!/usr/bin/env bash
# Install an offline stand-in for the pip bootstrap script ansible-test downloads.
#
# `ansible-test sanity --venv` creates virtualenvs without pip and fetches get-pip.py from
# ci-files.testing.ansible.com, a host CI machines cannot reach. ansible-test first looks in
# ~/.ansible/test/cache/get_pip_<pip version>.py, so a script there that uses the
# interpreter's own ensurepip and then upgrades from the package index does the same job.
# Usage: tools/pip-bootstrap.sh VENV_DIR
set -euo pipefail

venv=${1:?usage: pip-bootstrap.sh VENV_DIR}
req=$("$venv/bin/python" -c 'import ansible_test, os; print(os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py"))')
# ansible-test names the pip it bootstraps in get_venv_packages(): pip='24.2' in 2.17-2.19.
pip_version=$(sed -n "s/^[[:space:]]*pip='\([0-9.]*\)',\$/\1/p" "$req" | head -n 1)
if [ -z "$pip_version" ]; then
    echo "pip-bootstrap: cannot find the pip version ansible-test bootstraps in $req" >&2
    exit 1
fi

cache="$HOME/.ansible/test/cache"
target="$cache/get_pip_${pip_version//./_}.py"
mkdir -p "$cache"
cat > "$target.tmp" <<'PY'
"""Offline stand-in for get-pip.py, written by tools/pip-bootstrap.sh of pyetcd.etcd.

ansible-test runs this as __main__ inside a fresh virtualenv with get-pip.py's arguments.
Bring pip in from the interpreter's bundled wheel, then let pip install the requested
versions; the get-pip-only flags (--no-setuptools, --no-wheel) mean "do not add those",
which a plain pip install already honours.
"""
import subprocess
import sys

GET_PIP_ONLY = {'--no-setuptools', '--no-wheel'}

subprocess.check_call([sys.executable, '-m', 'ensurepip', '--default-pip'])
args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
sys.exit(subprocess.call([sys.executable, '-m', 'pip', 'install', '--upgrade'] + args))
PY
mv "$target.tmp" "$target"
echo "pip-bootstrap: wrote $target"
