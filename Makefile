PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# defined before any rule names it: make expands a rule's prerequisites as it reads the rule
CLIENT := client-vscode

.PHONY: demo test test-python test-packaging venv clean oracle vsix vsix-all bundle-lock test-client client-build

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	# the optional Dask extra, for the tests of `--dask` (they skip, saying why, without it)
	-$(PY) -m pip install -q -e '.[test,dask]'
	touch $(STAMP)

venv: $(STAMP)

# The main job: lint the seed example, then run its end-to-end workflow with the
# bundled executor (runs are recorded in examples/seed/.guild/runs).
demo: $(STAMP)
	$(VENV)/bin/guildls check examples/seed
	$(VENV)/bin/guildls run -C examples/seed end-to-end --yes

# Real Guild 0.9.0 as a test oracle, in a venv of its own (never a dependency of guildls).
# Tests that compare with Guild skip with a printed reason when it could not be installed.
GUILD_VENV := .venv-guild
$(GUILD_VENV)/.installed:
	-$(PYTHON) -m venv $(GUILD_VENV) && $(GUILD_VENV)/bin/pip install -q --disable-pip-version-check \
	  guildai==0.9.0 'click<8.2' 'setuptools<80' && touch $@

# Guild's random optimizer imports scikit-optimize's numpy/scikit-learn of its time
# (numpy.core.umath_tests is gone from numpy 2): pinned apart, so Guild itself installs
# even where these wheels do not; the random-batch comparison then skips saying why.
GUILD_RANDOM := $(GUILD_VENV)/.random-optimizer
$(GUILD_RANDOM): $(GUILD_VENV)/.installed
	-$(GUILD_VENV)/bin/pip install -q --disable-pip-version-check \
	  'numpy<1.25' 'scipy<1.11' 'scikit-learn<1.3' && touch $@

oracle: $(GUILD_VENV)/.installed $(GUILD_RANDOM)

test-python: $(STAMP) oracle
	GUILD_EXE=$(CURDIR)/$(GUILD_VENV)/bin/guild GUILDLS_GUILD_PYTHON=$(CURDIR)/$(GUILD_VENV)/bin/python \
	  $(PY) -m pytest -q -rs --ignore=tests/realclients --ignore=tests/packaging

# every .vsix target (`make vsix-all`) and the wheel + sdist, built and inspected; the
# Linux x86_64 package started on every CPython 3.9-3.14 found here (tests/packaging)
RELEASE_STAMP := $(VENV)/.release-tools
$(RELEASE_STAMP): $(STAMP)
	$(PY) -m pip install -q --disable-pip-version-check 'build>=1.2' 'twine>=6'
	touch $@

test-packaging: $(RELEASE_STAMP) $(CLIENT)/node_modules/.package-lock.json
	GUILDLS_PACKAGING=1 $(PY) -m pytest -q -rs tests/packaging

test: test-python test-packaging test-client

# --- VS Code extension (client-vscode/) and real-editor tests (tests/realclients/)
CLIENT_VERSION := $(shell sed -n 's/^  "version": "\(.*\)",$$/\1/p' $(CLIENT)/package.json)

$(CLIENT)/node_modules/.package-lock.json: $(CLIENT)/package-lock.json
	cd $(CLIENT) && npm ci --no-audit --no-fund

# typecheck + bundle
client-build: $(CLIENT)/node_modules/.package-lock.json
	cd $(CLIENT) && npm run typecheck && npm run bundle

# One .vsix per VS Code target, each carrying guildls + its dependencies (bundled/libs),
# with the compiled wheels of its platform for CPython 3.9-3.14 (see
# client-vscode/scripts/bundle_python.py; versions pinned by client-vscode/bundle-lock.json).
# `make vsix`: this machine's target; `make vsix-all`: every target + the universal one.
# Both steps are cached: the bundle on the hash of its inputs (build/bundle-cache), the
# .vsix on its files' times, so a second `make vsix` with nothing changed does no work.
VSIX_TARGETS := linux-x64 linux-arm64 darwin-x64 darwin-arm64 win32-x64 win32-arm64 universal
BUNDLE := $(PY) $(CLIENT)/scripts/bundle_python.py
BUNDLE_CACHE := build/bundle-cache
LOCAL_TARGET = $(shell $(PYTHON) $(CLIENT)/scripts/bundle_python.py --local-target)
VSIX_INPUTS = $(shell find $(CLIENT)/src $(CLIENT)/webview-ui $(CLIENT)/python $(CLIENT)/syntaxes $(CLIENT)/images -type f \
  -not -path '*/__pycache__/*') $(wildcard $(CLIENT)/*.json $(CLIENT)/*.md $(CLIENT)/*.mjs $(CLIENT)/LICENSE \
  $(CLIENT)/.vscodeignore)

vsix: vsix-$(LOCAL_TARGET)

vsix-all: $(addprefix vsix-,$(VSIX_TARGETS))
	@cd $(CLIENT) && for f in guildls-$(CLIENT_VERSION)-*.vsix; do \
	  printf '%-36s %6s KiB\n' $$f $$(( $$(stat -c %s $$f) / 1024 )); done

# re-pin the bundle's dependencies (resolved for CPython 3.9 from pyproject's ranges)
bundle-lock: $(STAMP)
	$(BUNDLE) --lock

vsix-%: $(STAMP) $(CLIENT)/node_modules/.package-lock.json
	@$(BUNDLE) --target $*
	@$(MAKE) --no-print-directory $(CLIENT)/guildls-$(CLIENT_VERSION)-$*.vsix

$(CLIENT)/guildls-$(CLIENT_VERSION)-%.vsix: $(BUNDLE_CACHE)/%/inputs.sha256 $(VSIX_INPUTS)
	$(BUNDLE) --target $* --out $(CLIENT)/bundled/libs
	cd $(CLIENT) && npx vsce package --no-dependencies --no-rewrite-relative-links \
	  $(if $(filter universal,$*),,--target $*) -o guildls-$(CLIENT_VERSION)-$*.vsix

# npm ci + typecheck + bundle + unit tests of the pure client code, then VS Code (code-server) and Neovim end to end
test-client: $(STAMP)
	cd $(CLIENT) && npm ci --no-audit --no-fund && npm run typecheck && npm run bundle && npm run test:unit
	GUILDLS_REALCLIENTS=1 $(PY) -m pytest -v -rs tests/realclients

clean:
	rm -rf $(VENV) $(GUILD_VENV) build dist *.egg-info $(CLIENT)/dist $(CLIENT)/bundled $(CLIENT)/*.vsix
