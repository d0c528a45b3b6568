#!/usr/bin/env bash
# Lint the changelog fragments and render CHANGELOG.rst.
#
# Before the first release changelogs/changelog.yaml has no entries and `antsibull-changelog
# generate` refuses to run, so the pending fragments are rendered as a preview of the
# version in galaxy.yml: a throwaway copy of the collection is "released" and only its
# CHANGELOG.rst is kept. Fragments and changelog.yaml here are left untouched; cutting a real
# release is `antsibull-changelog release`.
# Environment: VENV (default .venv).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
venv=$(realpath -m "${VENV:-$root/.venv}")
changelog="$venv/bin/antsibull-changelog"

cd "$root"
"$changelog" lint

if compgen -G 'changelogs/fragments/*.yml' >/dev/null; then
    # Fragments not yet released: CHANGELOG.rst previews them as the release galaxy.yml names,
    # made in a copy so that the fragments and changelog.yaml here stay as they are.
    work=$(mktemp -d "${TMPDIR:-/tmp}/pyetcd-changelog.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    copy="$work/ansible_collections/pyetcd/etcd"
    mkdir -p "$copy"
    cp -r galaxy.yml changelogs meta "$copy/"
    if [ -d plugins ]; then cp -r plugins "$copy/"; fi
    # New plugins are listed from their DOCUMENTATION, read with ansible-doc from the copy.
    (cd "$copy" && ANSIBLE_COLLECTIONS_PATH="$work" "$changelog" release --date "$(date -u +%Y-%m-%d)" \
        --ansible-doc-bin "$venv/bin/ansible-doc")
    cp "$copy/CHANGELOG.rst" CHANGELOG.rst
    echo "changelog: CHANGELOG.rst previews the unreleased $(sed -n 's/^version:[[:space:]]*//p' galaxy.yml)"
else
    "$changelog" generate
fi
