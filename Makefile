# Sojourn — the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.sojourn-installed

.PHONY: install demo test test-sqlite test-postgres lint messages requirements clean

install: $(STAMP)

# Re-installs only when the pins or the project metadata change; a second run is a no-op.
$(STAMP): pyproject.toml requirements/build.txt requirements/base.txt requirements/test.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/build.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/test.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/sojourn compiletranslations
	touch $(STAMP)

demo: install
	scripts/system-packages
	$(BIN)/sojourn demo

test: install
	scripts/run-tests

lint: install
	$(BIN)/ruff check .
	$(BIN)/sojourn makemigrations --check --dry-run

# Regenerate the pins (needs pip-tools); they hold names, versions and hashes only.
requirements:
	pip-compile -q --generate-hashes --no-emit-index-url --no-emit-find-links --allow-unsafe --strip-extras -o requirements/build.txt requirements/build.in
	pip-compile -q --generate-hashes --no-emit-index-url --no-emit-find-links --allow-unsafe --strip-extras -o requirements/base.txt pyproject.toml
	pip-compile -q --generate-hashes --no-emit-index-url --no-emit-find-links --allow-unsafe --strip-extras --extra test -o requirements/test.txt pyproject.toml

clean:
	rm -rf $(VENV) var build src/*.egg-info
