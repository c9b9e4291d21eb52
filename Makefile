# Sojourn — the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.sojourn-installed
TEST_STAMP := $(VENV)/.sojourn-test-installed
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes
# Without --no-compile pip compiles every module of every package up front (all of SciPy's among
# them), a third of the install; Python compiles the modules it imports on first use instead.
PIP_PINS := $(PIP) --no-compile -r

.PHONY: install install-test demo test lint requirements clean

install: $(STAMP)

install-test: $(TEST_STAMP)

# Each re-installs only when its pins or the project metadata change; a second run is a no-op.
$(STAMP): pyproject.toml requirements/build.txt requirements/base.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -r requirements/build.txt
	$(PIP_PINS) requirements/base.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/sojourn compiletranslations
	touch $(STAMP)

# The test extras (pytest, Playwright, ruff, the CEL package, an SMTP server) on top of the runtime.
$(TEST_STAMP): $(STAMP) requirements/test.txt
	$(PIP_PINS) requirements/test.txt
	touch $(TEST_STAMP)

demo: install
	scripts/system-packages
	$(BIN)/sojourn demo

test: install-test
	scripts/run-tests

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/sojourn makemigrations --check --dry-run

# Regenerate the pins (needs pip-tools); they hold names, versions and hashes only.
requirements:
	pip-compile -q --generate-hashes --no-emit-index-url --no-emit-find-links --allow-unsafe --strip-extras -o requirements/build.txt requirements/build.in
	pip-compile -q --generate-hashes --no-emit-index-url --no-emit-find-links --allow-unsafe --strip-extras -o requirements/base.txt pyproject.toml
	pip-compile -q --generate-hashes --no-emit-index-url --no-emit-find-links --allow-unsafe --strip-extras --extra test -o requirements/test.txt pyproject.toml

clean:
	rm -rf $(VENV) var build src/*.egg-info
