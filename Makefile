PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-python venv clean oracle vsix test-client client-build

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
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

oracle: $(GUILD_VENV)/.installed

test-python: $(STAMP) oracle
	GUILD_EXE=$(CURDIR)/$(GUILD_VENV)/bin/guild GUILDLS_GUILD_PYTHON=$(CURDIR)/$(GUILD_VENV)/bin/python \
	  $(PY) -m pytest -q -rs --ignore=tests/realclients

test: test-python test-client

# --- VS Code extension (client-vscode/) and real-editor tests (tests/realclients/)
CLIENT := client-vscode
CLIENT_VERSION = $(shell node -p "require('./$(CLIENT)/package.json').version")

$(CLIENT)/node_modules/.package-lock.json: $(CLIENT)/package-lock.json
	cd $(CLIENT) && npm ci --no-audit --no-fund

# typecheck + bundle
client-build: $(CLIENT)/node_modules/.package-lock.json
	cd $(CLIENT) && npm run typecheck && npm run bundle

# guildls + its dependencies into bundled/libs, for any CPython >= 3.9 (see
# client-vscode/scripts/bundle_python.py), then guildls-<version>.vsix
vsix: $(STAMP) $(CLIENT)/node_modules/.package-lock.json
	$(PY) $(CLIENT)/scripts/bundle_python.py . $(CLIENT)/bundled/libs
	cd $(CLIENT) && npx vsce package --no-dependencies --no-rewrite-relative-links -o guildls-$(CLIENT_VERSION).vsix

# npm ci + typecheck + bundle + unit tests of the pure client code, then VS Code (code-server) and Neovim end to end
test-client: $(STAMP)
	cd $(CLIENT) && npm ci --no-audit --no-fund && npm run typecheck && npm run bundle && npm run test:unit
	GUILDLS_REALCLIENTS=1 $(PY) -m pytest -v -rs tests/realclients

clean:
	rm -rf $(VENV) $(GUILD_VENV) build *.egg-info $(CLIENT)/dist $(CLIENT)/bundled $(CLIENT)/*.vsix
