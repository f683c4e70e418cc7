# Two commands set everything up on a fresh machine:
#   make run    install, then serve the demo on $(HOST):$(PORT)
#   make test   install, then the whole suite
# `make install` reinstalls only when a requirements file changed (a stamp file in .venv), and
# the npm packages of the browser tests only when package-lock.json changed (a stamp file in
# node_modules).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
STAMP  := $(VENV)/.install-stamp
NPM_STAMP := node_modules/.install-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000
TORCH  := 2.13.0

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install system run test bench clean

# Debian packages some features and tests need (espeak-ng: offline speech; chromium: the
# browser tests; redis-server: the multi-instance tests). Installed when running as root with
# apt-get; elsewhere the tests that need them skip and say why.
SYSTEM_PACKAGES := espeak-ng chromium redis-server

install: system $(STAMP) $(NPM_STAMP)

system:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	  if [ -n "$$missing" ]; then \
	    echo "installing Debian packages:" $$missing; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  fi; \
	fi

# torch first and pinned: 2.13.0 is the CPU build; left to a dependency's range, pip would
# pull a multi-GB CUDA build.
$(STAMP): requirements.txt requirements-dev.txt requirements-nodeps.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install torch==$(TORCH)
	$(PIP) install -r requirements-dev.txt torch==$(TORCH)
	$(PIP) install --no-deps -r requirements-nodeps.txt
	touch $(STAMP)

# npm packages used only by the browser tests (real SSE client libraries run in Chromium):
# `npm ci`, exactly the committed package-lock.json. Without npm the tests that need them skip
# and say why.
$(NPM_STAMP): package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  echo "npm ci (package-lock.json)"; \
	  npm ci --no-audit --no-fund --loglevel=error && touch $(NPM_STAMP); \
	else \
	  echo "npm not found: the browser tests that need npm packages will skip"; \
	fi

run: install
	HOST=$(HOST) PORT=$(PORT) $(PY) -m app serve

# Two workers (pytest-xdist, the machine's 2 cores), each running whole test files, so a
# module's app server starts once. `$(PY) -m pytest -q` runs the same suite in one process.
test: install
	$(PY) -m pytest -q -n 2 --dist loadfile

bench: install
	$(PY) bench/sse_engine.py

clean:
	rm -rf $(VENV) data node_modules
