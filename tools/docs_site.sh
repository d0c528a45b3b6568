#!/usr/bin/env bash
# Build the collection's documentation site with antsibull-docs and Sphinx, as docs.ansible.com
# does for published collections, and fail on any documentation warning.
#
#   tools/docs_site.sh              # HTML into .cache/docs-site/build/html
#
# Steps: a docs virtualenv (.cache/docs-venv: antsibull-docs plus the Sphinx requirements that
# sphinx-init writes; never the product's requirements), `antsibull-docs lint-collection-docs`
# on the checkout (plugin docs included), then `antsibull-docs sphinx-init --use-current` and
# its two build steps (antsibull-docs collection, then sphinx-build; any warning fails, except
# links into docs.ansible.com that cannot resolve offline).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
venv=${DOCS_VENV:-$root/.cache/docs-venv}
site="$root/.cache/docs-site"

if [ ! -x "$venv/bin/antsibull-docs" ]; then
    python=$(command -v python3.11 || command -v python3)
    echo "docs: creating $venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --disable-pip-version-check --quiet --upgrade pip
    "$venv/bin/python" -m pip install --disable-pip-version-check --quiet antsibull-docs ansible-core
fi

# antsibull-docs finds the collection the way ansible does: under ansible_collections/<ns>/<name>.
collections=$("$root/tools/collections-dir.sh")
export ANSIBLE_COLLECTIONS_PATH="$collections"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
ANSIBLE_HOME=$(mktemp -d "${TMPDIR:-/tmp}/pyetcd-docs-home.XXXXXX")
export ANSIBLE_HOME
trap 'rm -rf "$ANSIBLE_HOME"' EXIT
export PATH="$venv/bin:$PATH"

echo "docs: antsibull-docs lint-collection-docs"
(cd "$collections/ansible_collections/pyetcd/etcd" && antsibull-docs lint-collection-docs --plugin-docs .)

rm -rf "$site"
mkdir -p "$site"
antsibull-docs sphinx-init --use-current --dest-dir "$site" --fail-on-error pyetcd.etcd
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$site/requirements.txt"

# The generated build.sh runs these two steps with `sphinx-build -W`. Here, with no network, the
# intersphinx inventories of docs.ansible.com and docs.python.org cannot be fetched, so the few
# links every collection page makes into Ansible's own documentation stay unresolved; those
# warnings (and only those) are accepted, every other warning fails the build.
mkdir -p "$site/rst"
chmod og-w "$site/rst"
(cd "$site" && antsibull-docs --config-file antsibull-docs.cfg collection --cleanup everything --fail-on-error \
    --use-current --dest-dir rst pyetcd.etcd)
warnings="$site/sphinx-warnings.log"
(cd "$site" && sphinx-build -M html rst build -c . --keep-going -q -w "$warnings")
offline='failed to reach any of the inventories|intersphinx inventory|undefined label: .(common_return_values|ansible_configuration_settings).|reference target not found: ANSIBLE_[A-Z_]+'
unexpected=$(grep -E 'WARNING|ERROR' "$warnings" | grep -Ev "$offline" || true)
if [ -n "$unexpected" ]; then
    echo "docs: Sphinx warnings:" >&2
    echo "$unexpected" >&2
    exit 1
fi
accepted=$(grep -cE "$offline" "$warnings" || true)

index="$site/build/html/collections/pyetcd/etcd/index.html"
if [ ! -s "$index" ]; then
    echo "docs: $index was not written" >&2
    exit 1
fi
pages=$(find "$site/build/html/collections/pyetcd/etcd" -name '*.html' | wc -l)
echo "docs: site built, $pages pages for pyetcd.etcd ($accepted offline intersphinx warnings accepted), start at ${index#"$root"/}"
