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
    "/review/contributions/",
    "/arena-stats/",
    "/campaigns/new/",
]


def test_no_untranslated_string_is_left_on_the_staff_pages(pseudo_locale, staff):
    campaign_with_tasks(n_tasks=1)
    client = Client()
    client.force_login(staff)
    from webapp.feedback.models import Campaign, Language
    from webapp.feedback.workspace.forms import judge_choices

    # Data is not interface text: language names ("English (en)") and campaign names stay as they are.
    data = {str(language) for language in Language.objects.all()} | {
        language.name for language in Language.objects.all()
    }
    data |= set(Campaign.objects.values_list("name", flat=True))
    data |= {origin for origin, _label in judge_choices() if origin}  # judge names (NAME@VERSION) on /campaigns/new/
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


# --- API errors speak the request's language ----------------------------------------------------------


def translated(language: str, message: str, params: dict | None = None) -> str:
    from django.utils import translation

    with translation.override(language):
        text = translation.gettext(message)
    return text % params if params is not None else text


def test_a_service_error_in_an_api_answer_is_in_the_requests_language(api, annotator):
    _, tasks = campaign_with_tasks(n_tasks=1)
    body = {"ranking": [[0], [1], [1, 2]]}
    url = f"/api/v1/tasks/{tasks[0].pk}/annotations/"
    message = "'%(where)s' ranks response(s) %(repeated)s more than once"
    params = {"where": "ranking", "repeated": [1]}
    german = api(annotator).post(url, body, format="json", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    assert german.status_code == 400
    assert german.json()["detail"] == translated("de", message, params) != message % params
    english = api(annotator).post(url, body, format="json")
    assert english.json()["detail"] == message % params


def test_a_conflict_is_in_spanish_and_a_content_error_in_arabic(api, annotator, staff):
    _, tasks = campaign_with_tasks(n_tasks=1)
    client = api(annotator)
    url = f"/api/v1/tasks/{tasks[0].pk}/annotations/"
    assert client.post(url, {"ranking": [[0], [1], [2]]}, format="json").status_code == 201
    conflict = client.post(url, {"ranking": [[2], [1], [0]]}, format="json", HTTP_ACCEPT_LANGUAGE="es")
    message = "You have already submitted a different ranking for this task."
    assert conflict.status_code == 409 and conflict.json()["detail"] == translated("es", message) != message
    empty = api(staff).post(
        "/api/v1/prompts/", {"content": " ", "language": "en"}, format="json", HTTP_ACCEPT_LANGUAGE="ar"
    )
    assert empty.status_code == 400
    assert empty.json()["detail"] == translated("ar", "'%(where)s' is empty", {"where": "content"})


def test_the_language_cookie_and_the_permission_messages(api, annotator):
    client = api(annotator)
    client.cookies["django_language"] = "zh-hans"
    refused = client.get("/api/v1/transfers/")
    assert refused.status_code == 403
    assert refused.json()["detail"] == translated("zh-hans", "Only staff can do this.") != "Only staff can do this."
    missing = client.post("/api/v1/tasks/999999/skip/", {}, format="json")
    message = "No such task, or it is not in your languages."
    assert missing.status_code == 404 and missing.json()["detail"] == translated("zh-hans", message)


def test_a_refused_hyperparameter_is_named_as_the_launch_form_labels_it(api, staff):
    from webapp.modelstore.models import ModelVariant, VariantStatus

    ModelVariant.objects.create(name="i18n-base", kind="base", path="base/i18n-base", status=VariantStatus.READY)
    body = {"kind": "dpo", "parent": "i18n-base", "hyperparameters": {"learning_rate": 2}}
    reply = api(staff).post("/api/v1/training-jobs/", body, format="json", HTTP_ACCEPT_LANGUAGE="de")
    assert reply.status_code == 400 and reply.json()["field"] == "hyperparameters.learning_rate"
    problem = translated("de", "must be in %(interval)s (got %(value)s)", {"interval": "(0, 1]", "value": "2"})
    label = translated("de", "Learning rate")  # the launch form's label (templates/training/jobs.html)
    expected = translated("de", "%(field)s: %(problem)s", {"field": label, "problem": problem})
    assert reply.json()["detail"] == expected == "Lernrate: muss in (0, 1] liegen (erhalten: 2)"
    body["hyperparameters"] = {"batch_size": 0}
    spanish = api(staff).post("/api/v1/training-jobs/", body, format="json", HTTP_ACCEPT_LANGUAGE="es")
    problem = translated("es", "must be %(low)s..%(high)s (got %(value)s)", {"low": "1", "high": "256", "value": "0"})
    expected = translated("es", "%(field)s: %(problem)s", {"field": translated("es", "Batch size"), "problem": problem})
    assert spanish.json()["detail"] == expected and spanish.json()["detail"].startswith("Tamaño de lote: ")
    english = api(staff).post("/api/v1/training-jobs/", body, format="json").json()["detail"]
    assert english == "Batch size: must be 1..256 (got 0)"


@pytest.mark.django_db(transaction=True)
def test_an_import_job_reports_its_bad_lines_in_the_language_of_whoever_started_it(api, staff, tmp_path):
    from webapp.feedback.models import TransferJob
    from webapp.feedback.services.transfers import transfer_run

    path = tmp_path / "bad.jsonl"
    path.write_text('{"prompt": "Hi", "chosen": "A", "rejected": "A", "language": "en"}\n', encoding="utf-8")
    with path.open("rb") as handle:
        reply = api(staff).post(
            "/api/v1/transfers/import/", {"file": handle}, format="multipart", HTTP_ACCEPT_LANGUAGE="de"
        )
    assert reply.status_code == 202, reply.content
    transfer_run(reply.json()["id"])  # the worker: no request, so no language of its own
    job = TransferJob.objects.get(pk=reply.json()["id"])
    message = "'chosen' and 'rejected' are the same text (invisible characters aside)"
    assert job.status == "failed" and job.result["errors"] == [{"line": 1, "error": translated("de", message)}]
    summary = "%(count)s invalid line(s); nothing was imported (use --skip-invalid to import the rest):"
    assert job.error.startswith(translated("de", summary, {"count": 1}))


def test_every_training_rule_has_a_translated_wording():
    """ml words its rules in English only; each one (and an unknown setting) needs its catalogue message."""
    from django.utils import translation

    from ml.training.config import RULES, ConfigError, Hyperparameters
    from webapp.training.services import RULE_MESSAGES, config_problem

    assert set(RULE_MESSAGES) == set(RULES) | {"unknown"}
    with pytest.raises(ConfigError) as refused:
        Hyperparameters.from_dict({"lora_targets": []})
    problem = translated("ar", "must be a non-empty list of module names (got %(value)s)", {"value": "[]"})
    with translation.override("ar"):
        assert config_problem(refused.value) == problem
