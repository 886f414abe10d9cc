# The two set-up commands (README): `make run` serves the coach (PORT=5050 make run for another
# port), `make test` runs every test.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
PORT   ?= 5000
TRANSLATIONS := coach/translations

.PHONY: run test bench clean messages translations

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
	$(BIN)/pybabel compile --statistics -d $(TRANSLATIONS)
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# The gettext catalogues (README, Languages): the .po files are the source, the .mo files are
# compiled at install (above) and by the app when one is missing or older than its .po.
translations: $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d $(TRANSLATIONS)

# After changing a text: extract the template, then merge it into every language's .po
# (new texts arrive untranslated, changed ones fuzzy: tests/test_i18n_catalogues.py names them).
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F $(TRANSLATIONS)/babel.cfg -k N_ -k NP_:1,2 -k translate:2 -k translate_plural:2,3 \
		--add-comments=Translators: --no-wrap --sort-by-file --project=vagal-coach \
		-o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update --no-wrap -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS)

clean:
	rm -rf $(VENV) instance
	rm -f $(TRANSLATIONS)/*/LC_MESSAGES/*.mo
