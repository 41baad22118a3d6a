# Hygeia: `make run` sets up and serves; `make test` runs the test suite (no external services needed).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
# Every install takes the releases the tests last passed on (`make lock` moves them forward)
CONSTRAINTS := constraints.txt
PIP_INSTALL := $(BIN)/python -m pip install --quiet -c $(CONSTRAINTS)

# llama.cpp's OpenMP workers must sleep when idle, or they spin on both cores between answers
export OMP_WAIT_POLICY ?= PASSIVE
# llama-cpp-python compiles llama.cpp once (pip then reuses the wheel from its cache)
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF

.PHONY: run test test-integration browser-deps monitoring-deps lint typecheck bench lock clean

$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(PIP_INSTALL) -e .
	touch $(STAMP)

# Tests also need the dev tools and the local language model the agents' end-to-end tests run on.
$(TEST_STAMP): $(STAMP)
	$(PIP_INSTALL) -e '.[dev,llm]'
	touch $(TEST_STAMP)

# Resolve every dependency afresh, newest allowed release first, in a scratch venv, and pin what came
# out; commit the new constraints.txt only after `make test` and `.ci/run` pass on it.
LOCK_VENV := build/lock-venv
lock:
	rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LOCK_VENV)/bin/python -m pip install --quiet '.[dev,llm,load,s3]'
	{ printf '%s\n' '# The releases Hygeia is tested on (Python 3.11, Linux x86_64), written by `make lock`.' \
		'# pip install -c constraints.txt ... keeps an install on them; pyproject.toml says what is allowed.'; \
	  $(LOCK_VENV)/bin/python -m pip freeze --exclude hygeia; } > $(CONSTRAINTS)
	rm -rf $(LOCK_VENV)

# The browser tests drive Debian's Chromium (never a downloaded one); install it once if missing.
browser-deps:
	@test -x /usr/bin/chromium || { command -v apt-get >/dev/null && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-dejavu-core; }

# promtool (Debian's prometheus package) checks and unit-tests the alert rules.
monitoring-deps:
	@command -v promtool >/dev/null || { command -v apt-get >/dev/null && \
		{ apt-get update -q >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus; }; }

run: $(STAMP)
	$(BIN)/hygeia serve

test: $(TEST_STAMP) browser-deps monitoring-deps
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src
	HYGEIA_REQUIRE_BROWSER=1 HYGEIA_REQUIRE_PROMTOOL=1 $(BIN)/python -m pytest -m "not integration" -q

test-integration: $(TEST_STAMP)
	$(BIN)/python -m pytest -m integration -q

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests benchmarks && $(BIN)/ruff format --check src tests benchmarks

typecheck: $(TEST_STAMP)
	$(BIN)/mypy src

bench: $(TEST_STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
