# Developer and CI entry points for the pyetcd.etcd collection.
#   make demo   - start a throwaway etcd and run demo/site.yml against it
#   make test   - ansible-test sanity, ansible-lint, then the pytest suite (real etcd servers)
# Everything runs from .venv, which `make venv` creates on first use.

SHELL := /bin/bash
VENV ?= .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.pyetcd-requirements.stamp
VERSION := $(shell sed -n 's/^version:[[:space:]]*//p' galaxy.yml)
TARBALL := build/pyetcd-etcd-$(VERSION).tar.gz
# Extra arguments for pytest, e.g. `make pytest PYTEST_ARGS='-k lookup -x'`.
PYTEST_ARGS ?=

# CI must not skip the etcd 3.4 half of the matrix just because a binary is missing.
ifeq ($(CI),true)
PYTEST_ENV := PYETCD_REQUIRE_ALL_ETCD=1
endif

export VENV
# ansible-lint and ansible-test call ansible-* tools by name.
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: help venv sanity lint pytest test demo build install-test changelog clean bench compat docs-site

help:
	@echo 'make demo          run the demo playbook against a throwaway etcd'
	@echo 'make test          sanity + lint + pytest (everything CI runs)'
	@echo 'make venv          create/update $(VENV) from requirements-test.txt'
	@echo 'make sanity        ansible-test sanity (offline, no ignore files)'
	@echo 'make lint          ansible-lint, production profile'
	@echo 'make pytest        the pytest suite only (PYTEST_ARGS=... to narrow)'
	@echo 'make build         ansible-galaxy collection build into build/'
	@echo 'make install-test  install the built tarball and run the demo from it'
	@echo 'make changelog     lint changelog fragments and render CHANGELOG.rst'
	@echo 'make bench         every benchmark (bench/.venv); writes bench/results/results.md and summary.png'
	@echo 'make compat        module and lookup tests under ansible-core 2.16/2.19/newest x etcd 3.4/3.5'
	@echo 'make docs-site     antsibull-docs lint and the Sphinx docs site in .cache/docs-site'

venv: $(STAMP)

$(STAMP): requirements-test.txt requirements.txt
	tools/make-venv.sh $(VENV)
	@touch $@

sanity: venv
	tools/sanity.sh

# ansible-lint resolves group/pyetcd.etcd.etcd in module_defaults only when it can find this
# collection by name, so it gets the same collections path the tests use.
lint: venv
	ANSIBLE_COLLECTIONS_PATH="$$(tools/collections-dir.sh)" $(VENV)/bin/ansible-lint --offline

pytest: venv
	$(PYTEST_ENV) $(PYTHON) -m pytest $(PYTEST_ARGS)

# Stages run in this order and stop at the first failure; pytest goes last so its
# summary is the last thing printed.
test: venv
	@$(MAKE) --no-print-directory sanity
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory pytest

demo: venv
	tools/demo.sh

build: venv
	@mkdir -p build
	$(VENV)/bin/ansible-galaxy collection build --force --output-path build .

install-test: build
	tools/install-test.sh

changelog: venv
	tools/changelog.sh

clean:
	rm -rf build tests/output .pytest_cache .hypothesis

# Benchmarks are not tests: not part of `make test` or CI. bench/run_all.py makes its own venv.
bench:
	python3 bench/run_all.py

compat: venv
	tools/compat_matrix.sh

docs-site:
	tools/docs_site.sh
