# The two set-up commands (README): `make run` serves the coach (PORT=5050 make run for another
# port), `make test` runs every test.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
PORT   ?= 5000

.PHONY: run test bench clean

run: $(VENV)/.installed
	COACH_DEV=1 $(BIN)/flask --app wsgi coach serve --port $(PORT)

test: $(VENV)/.installed-test
	scripts/ensure-chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	$(BIN)/python bench/api.py

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

clean:
	rm -rf $(VENV) instance
