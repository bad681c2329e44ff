"""The shipped interface languages: every catalogue entry translated (none empty, none fuzzy), every
placeholder kept, every catalogue compiled, and each language offered in the menu."""

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.test import Client
from django.utils.translation import to_locale

ROOT = Path(settings.BASE_DIR)
SHIPPED = ["de", "ar", "zh-hans", "es"]
DOMAINS = ["django", "djangojs"]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}|<[^>]+>")


def translations(entry: polib.POEntry) -> list[str]:
    """The entry's translated text, or each of its plural forms (none: an untranslated entry)."""
    if entry.msgid_plural:
        return list(entry.msgstr_plural.values()) or [""]
    return [entry.msgstr]


def catalogue(language: str, domain: str) -> Path:
    return ROOT / "locale" / to_locale(language) / "LC_MESSAGES" / f"{domain}.po"


@pytest.mark.parametrize("language", SHIPPED)
@pytest.mark.parametrize("domain", DOMAINS)
def test_every_entry_is_translated_with_its_placeholders(language, domain):
    path = catalogue(language, domain)
    entries = [entry for entry in polib.pofile(str(path)) if not entry.obsolete]
    assert entries, f"{path} is empty"
    empty = [e.msgid for e in entries if not all(translations(e))]
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    assert not empty, f"{path}: {len(empty)} untranslated, e.g. {empty[:3]}"
    assert not fuzzy, f"{path}: {len(fuzzy)} fuzzy, e.g. {fuzzy[:3]}"
    for entry in entries:
        # Every form keeps the placeholders (a plural form those of the plural message id).
        wanted = sorted(PLACEHOLDER.findall(entry.msgid_plural or entry.msgid))
        for text in translations(entry):
            assert sorted(PLACEHOLDER.findall(text)) == wanted, (path, entry.msgid, text)


@pytest.mark.parametrize("language", SHIPPED)
@pytest.mark.parametrize("domain", DOMAINS)
def test_every_catalogue_is_compiled_and_current(language, domain):
    po = catalogue(language, domain)
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run .venv/bin/python manage.py compilemessages"
    compiled = {entry.msgid: entry.msgstr for entry in polib.mofile(str(mo))}
    entries = [entry for entry in polib.pofile(str(po)) if not entry.obsolete and not entry.msgid_plural]
    source = {entry.msgid: entry.msgstr for entry in entries}
    stale = [msgid for msgid, text in source.items() if compiled.get(msgid) != text]
    assert not stale, f"{mo} is older than {po.name}: run compilemessages ({stale[:2]})"


def test_the_shipped_languages_are_offered(db):
    page = Client().get("/accounts/login/").content.decode()
    for code in ["en", *SHIPPED]:
        assert f'<option value="{code}"' in page
    arabic = Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert 'lang="ar"' in arabic and 'dir="rtl"' in arabic
