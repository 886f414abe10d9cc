"""The gettext catalogues (design.md, Languages): the template holds every text the code
and the routines mark, every language translates every one of them (a missing or fuzzy one
fails, named), placeholders and citations survive translation, and a missing or stale .mo
is compiled at start-up so a clean clone runs translated."""
from __future__ import annotations

import re
import shutil
import time

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from coach import create_app
from coach.i18n import SUPPORTED, translate
from coach.i18n.catalogues import DIRECTORY, compile_catalogues, po_path
from coach.routines import catalogue, plans

ROOT = DIRECTORY.parent.parent
POT = DIRECTORY / "messages.pot"
LANGUAGES = [lang for lang in SUPPORTED if lang != "en"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
# Author(s) and year, then the journal and volume:page when given: "Hayashi et al. 1997,
# European Journal of Applied Physiology 76:394", "Shattock & Tipton 2012, Journal of ...".
CITATION = re.compile(r"[A-Z][\w-]+(?: [A-Z][\w-]+)?(?: et al\.| & [A-Z][\w-]+) \d{4}(?:, [^;)',]+(?: \d+:\d+)?)?")


def _read(path):
    with path.open("rb") as f:
        return read_po(f)


def _ids(catalog) -> set:
    return {m.id for m in catalog if m.id}


def test_the_template_is_up_to_date_with_the_code_and_the_routines(tmp_path):
    fresh = tmp_path / "messages.pot"
    CommandLineInterface().run([
        "pybabel", "-q", "extract", "-F", str(DIRECTORY / "babel.cfg"),
        "-k", "N_", "-k", "NP_:1,2", "-k", "translate:2", "-k", "translate_plural:2,3",
        "-o", str(fresh), str(ROOT),
    ])  # fmt: skip
    extracted, committed = _ids(_read(fresh)), _ids(_read(POT))
    assert extracted - committed == set(), "texts not in messages.pot: run `make messages` and translate them"
    assert committed - extracted == set(), "messages.pot holds texts no longer used: run `make messages`"
    assert len(committed) > 150


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_is_translated_and_none_is_fuzzy(language):
    template, po = _read(POT), _read(po_path(language))
    missing = []
    for message in template:
        if not message.id:
            continue
        found = po.get(message.id)
        strings = () if found is None else (found.string if isinstance(found.string, tuple) else (found.string,))
        if found is None or found.fuzzy or not all(strings):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    assert missing == [], f"{language}: untranslated or fuzzy: {missing}"
    obsolete = _ids(po) - _ids(template)
    assert obsolete == set(), f"{language}: texts the template no longer has: {obsolete}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_survive_translation(language):
    po = _read(po_path(language))
    assert list(po.check()) == []  # babel's own python-format checks
    for message in po:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[0]))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == wanted, (language, message.id, string)


def _texts_with_citations():
    for routine in catalogue.builtins():
        yield routine["slug"], routine["evidence"]
    for slug, plan in plans.all_plans().items():
        yield slug, plan["evidence"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_evidence_keeps_every_citation_exactly(language):
    checked = 0
    for slug, evidence in _texts_with_citations():
        translated = translate(language, evidence)
        assert translated != evidence, (language, slug, "not translated")
        for citation in CITATION.findall(evidence):
            assert citation in translated, (language, slug, citation)
            checked += 1
    assert checked >= 18  # the pattern finds the citations: it cannot pass by finding none


def test_the_citation_pattern_reads_whole_citations():
    text = "(Hayashi et al. 1997, European Journal of Applied Physiology 76:394; 15 men) (Shattock & Tipton 2012, Journal of Physiology 590:3219, 'x') (Vaschillo et al. 2002)"
    assert CITATION.findall(text) == [
        "Hayashi et al. 1997, European Journal of Applied Physiology 76:394",
        "Shattock & Tipton 2012, Journal of Physiology 590:3219",
        "Vaschillo et al. 2002",
    ]


def test_missing_and_stale_mo_files_are_compiled(tmp_path):
    for language in LANGUAGES:
        target = po_path(language, tmp_path)
        target.parent.mkdir(parents=True)
        shutil.copy(po_path(language), target)
    assert sorted(compile_catalogues(tmp_path)) == sorted(LANGUAGES)  # a clean clone: no .mo
    mo = po_path("de", tmp_path).with_suffix(".mo")
    assert mo.stat().st_size > 1000
    assert compile_catalogues(tmp_path) == []  # up to date: nothing to do
    time.sleep(0.01)
    po_path("de", tmp_path).touch()  # an edited .po
    assert compile_catalogues(tmp_path) == ["de"]


def test_the_app_compiles_a_missing_catalogue_at_start_up(tmp_path):
    mo = po_path("fr").with_suffix(".mo")
    mo.unlink(missing_ok=True)
    create_app({"TESTING": True, "SECRET_KEY": "t", "INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert mo.exists()
    assert translate("fr", "Please log in again.") == "Veuillez vous reconnecter."


def test_an_unknown_text_or_language_falls_back_to_english():
    assert translate("de", "A sentence no catalogue has.") == "A sentence no catalogue has."
    assert translate("it", "Please log in again.") == "Please log in again."
    assert translate(None, "Please log in again.") == "Please log in again."
    assert translate("de", "Please log in again.") == "Bitte melde dich noch einmal an."


def test_every_catalogue_is_merged_with_the_template():
    """`make messages` was run after the template changed: pybabel update has nothing to do."""
    CommandLineInterface().run(["pybabel", "update", "--no-wrap", "-i", str(POT), "-d", str(DIRECTORY), "--check"])
