"""The interface goes through Django's i18n: rendered in a pseudo-locale built from the German
catalogue's message ids (each string wrapped in ⟦ ⟧), no untranslated text is left on the pages an
annotator sees, and the German catalogue itself is used."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.test import Client, override_settings

from tests.feedback.factories import campaign_with_tasks
from webapp.feedback.services import catalog

pytestmark = pytest.mark.django_db
CATALOGUE = Path(settings.BASE_DIR) / "locale" / "de" / "LC_MESSAGES" / "django.po"
SKIPPED_TAGS = {"script", "style", "kbd"}  # code, and key caps (Enter, Tab, S) that keyboards print


@pytest.fixture
def pseudo_locale(tmp_path):
    pseudo = polib.POFile()
    pseudo.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Plural-Forms": "nplurals=2; plural=(n != 1);"}
    for entry in polib.pofile(str(CATALOGUE)):
        if entry.msgid_plural:
            wrapped = {0: f"⟦{entry.msgid}⟧", 1: f"⟦{entry.msgid_plural}⟧"}
            pseudo.append(polib.POEntry(msgid=entry.msgid, msgid_plural=entry.msgid_plural, msgstr_plural=wrapped))
        else:
            pseudo.append(polib.POEntry(msgid=entry.msgid, msgstr=f"⟦{entry.msgid}⟧", msgctxt=entry.msgctxt))
    folder = tmp_path / "xx" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    pseudo.save_as_mofile(str(folder / "django.mo"))
    scripts = polib.POFile()
    scripts.metadata = dict(pseudo.metadata)
    for entry in polib.pofile(str(CATALOGUE.with_name("djangojs.po"))):
        if entry.msgid_plural:
            wrapped = {0: f"⟦{entry.msgid}⟧", 1: f"⟦{entry.msgid_plural}⟧"}
            scripts.append(polib.POEntry(msgid=entry.msgid, msgid_plural=entry.msgid_plural, msgstr_plural=wrapped))
        else:
            scripts.append(polib.POEntry(msgid=entry.msgid, msgstr=f"⟦{entry.msgid}⟧"))
    scripts.save_as_mofile(str(folder / "djangojs.mo"))
    with override_settings(LOCALE_PATHS=[tmp_path], LANGUAGES=[("en", "English"), ("xx", "Pseudo")]):
        yield "xx"


class UntranslatedText(HTMLParser):
    """Collects visible text and labelling attributes outside data (data-content, translate="no")."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__()
        self.stack: list[bool] = []  # per open element: is its content excluded?
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        excluded = (self.stack and self.stack[-1]) or tag in SKIPPED_TAGS
        excluded = excluded or "data-content" in attrs or attrs.get("translate") == "no"
        if not excluded:
            for name in ("aria-label", "title", "placeholder", "alt"):
                if attrs.get(name):
                    self.check(attrs[name])
            if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
                self.check(attrs["value"])
        if tag not in self.VOID:
            self.stack.append(bool(excluded))

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not (self.stack and self.stack[-1]):
            self.check(data)

    def check(self, text: str):
        rest = re.sub(r"⟦.*?⟧", "", text, flags=re.S).replace("Polyglot Feedback", "")
        if re.search(r"[^\W\d_]", rest):
            self.found.append(text.strip())


def untranslated(html: str) -> list[str]:
    parser = UntranslatedText()
    parser.feed(html)
    return parser.found


def flat_values(strings: dict) -> list[str]:
    return [v for value in strings.values() for v in (flat_values(value) if isinstance(value, dict) else [value])]


def get(client: Client, url: str, language: str) -> str:
    reply = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert reply.status_code == 200, url
    return reply.content.decode()


def test_no_untranslated_string_is_left_on_the_annotator_pages(pseudo_locale, annotator):
    campaign, _ = campaign_with_tasks(n_tasks=1)
    client = Client()
    assert untranslated(get(client, "/accounts/login/", pseudo_locale)) == []
    client.force_login(annotator)
    page = get(client, "/annotate/", pseudo_locale)
    assert untranslated(page) == []
    strings = json.loads(re.search(r'id="workspace-config" type="application/json">(.*?)</script>', page).group(1))
    assert all(re.fullmatch(r"⟦.*⟧", value, flags=re.S) for value in flat_values(strings["strings"]))
    catalog.campaign_create(name="Second", languages=["en"])
    assert untranslated(get(client, "/annotate/", pseudo_locale)) == []  # the campaign chooser


def test_the_invitation_page_is_translated_too(pseudo_locale, staff):
    from webapp.feedback.services.onboarding import annotator_invite

    invitation = annotator_invite(username="newbie", languages=["en"])
    assert untranslated(get(Client(), invitation.path, pseudo_locale)) == []


def test_the_checker_finds_a_string_that_skipped_translation():
    assert untranslated('<p>⟦Submit⟧ <span>Oops</span> <b aria-label="Bare label">x</b></p>') == [
        "Oops",
        "Bare label",
        "x",
    ]
    assert untranslated('<p data-content>Prompt text</p><kbd>Enter</kbd><strong translate="no">Brand</strong>') == []


def test_german_is_shipped(annotator):
    campaign_with_tasks(n_tasks=1)
    client = Client()
    client.force_login(annotator)
    page = get(client, "/annotate/", "de")
    assert "Antworten, die beste zuerst" in page and "Absenden" in page and 'lang="de"' in page


STAFF_PAGES = [
    "/",
    "/jobs/",
    "/models/",
    "/team/",
    "/transfers/",
    "/search/",
    "/search/links/",
    "/review/",
    "/arena-stats/",
    "/campaigns/new/",
]


def test_no_untranslated_string_is_left_on_the_staff_pages(pseudo_locale, staff):
    campaign_with_tasks(n_tasks=1)
    client = Client()
    client.force_login(staff)
    from webapp.feedback.models import Campaign, Language

    # Data is not interface text: language names ("English (en)") and campaign names stay as they are.
    data = {str(language) for language in Language.objects.all()} | {
        language.name for language in Language.objects.all()
    }
    data |= set(Campaign.objects.values_list("name", flat=True))
    left = {
        url: [text for text in untranslated(get(client, url, pseudo_locale)) if text not in data] for url in STAFF_PAGES
    }
    assert {url: found for url, found in left.items() if found} == {}


def test_the_scripts_strings_come_from_the_catalogue(pseudo_locale, db):
    """Every string the JavaScript shows is in djangojs.po, and /jsi18n/ serves it translated."""
    import subprocess

    reply = Client().get("/jsi18n/", HTTP_ACCEPT_LANGUAGE=pseudo_locale)
    entries = polib.pofile(str(CATALOGUE.with_name("djangojs.po")))
    assert len(entries) >= 15
    body = reply.content.decode("unicode_escape")
    for entry in entries:
        assert f"⟦{entry.msgid}⟧" in body, entry.msgid
    # No user-visible English literal is assigned in the scripts outside gettext (vendored code aside).
    static = Path(settings.BASE_DIR) / "static"
    literal = r'(textContent|innerText|title|placeholder|alert\()\s*=?\s*["`][A-Za-z][a-z]+ [a-z]'
    found = subprocess.run(
        ["grep", "-rnE", literal, str(static), "--include=*.js", "--exclude-dir=vendor"], capture_output=True, text=True
    ).stdout
    assert found == "", found
