"""The contributor leaderboard and the moderation list through the HTTP API, on a constructed set of decided,
rejected and pending contributions: the points formula (a junk-volume contributor ranks below a careful one),
the moderation thresholds and who may read what; the leaderboard's queries do not grow with the contributions."""

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from tests.conftest import client_for, make_annotator
from tests.feedback import test_i18n
from webapp.feedback.contributors import wilson_lower_bound
from webapp.feedback.models import Contribution, Verdict
from webapp.feedback.services import catalog, contributing

pytestmark = pytest.mark.django_db
pseudo_locale = test_i18n.pseudo_locale  # the catalogue test's fixture: every string wrapped in ⟦…⟧


class Store:
    """Contributions made directly in the store (the votes' arithmetic is tested in test_contributions.py), one
    task per contribution, in one write and one edit campaign per language."""

    def __init__(self) -> None:
        self.campaigns: dict[tuple[str, str], object] = {}
        self.n = 0

    def task(self, kind: str, language: str):
        key = (kind, language)
        if key not in self.campaigns:
            self.campaigns[key] = catalog.campaign_create(name=f"{kind}-{language}", languages=[language], kind=kind)
        self.n += 1
        prompt = catalog.prompt_create(content=f"Prompt {self.n}", language=language)
        if kind == "edit":
            response = catalog.response_create(prompt=prompt, content=f"Answer {self.n}")
            (task,), _ = contributing.contribution_tasks_add(campaign=self.campaigns[key], responses=[response.pk])
        else:
            (task,), _ = contributing.contribution_tasks_add(campaign=self.campaigns[key], prompts=[prompt.pk])
        return task

    def add(self, user, status: str, *, kind="write", language="de", n=1, distance=None) -> list[Contribution]:
        return [
            Contribution.objects.create(
                task=self.task(kind, language),
                contributor=user,
                kind=kind,
                language_id=language,
                content="text",
                status=status,
                edit_distance=distance,
            )
            for _ in range(n)
        ]


@pytest.fixture
def store():
    return Store()


def board(user, **params) -> dict:
    reply = client_for(user).get("/api/v1/contributors/leaderboard/", params)
    assert reply.status_code == 200, reply.content
    return reply.json()


def test_points_weigh_accepted_work_by_quality_and_a_junk_volume_ranks_below_careful_work(store):
    cara, jack, eddie, vera = (make_annotator(name, ["de", "en"]) for name in ("cara", "jack", "eddie", "vera"))
    store.add(cara, "accepted", n=5)
    store.add(jack, "accepted", n=4)
    store.add(jack, "rejected", n=20)
    store.add(jack, "pending", n=10)  # pending work earns nothing until decided
    small, large = store.add(eddie, "accepted", kind="edit", distance=50) + store.add(
        eddie, "accepted", kind="edit", distance=5000
    )
    rejected = store.add(eddie, "rejected", kind="edit", distance=30)[0]
    for contribution, up in [(small, True), (large, True), (rejected, False)]:
        Verdict.objects.create(contribution=contribution, voter=vera, up=up)
    Verdict.objects.create(contribution=store.add(jack, "rejected")[0], voter=vera, up=True)  # disagreed
    pending = store.add(cara, "pending")[0]
    Verdict.objects.create(contribution=pending, voter=vera, up=True)  # not decided: no credit yet
    store.add(cara, "accepted", language="en", n=2)

    de = board(jack, language="de")
    assert de["language"] == "de"
    rows = {row["contributor"]: row for row in de["results"]}
    q_cara = wilson_lower_bound(5, 5)
    assert rows["cara"]["quality"] == round(q_cara, 3) and rows["cara"]["points"] == round(15 * q_cara, 2)
    q_jack = wilson_lower_bound(4, 25)
    assert rows["jack"]["points"] == round(12 * q_jack, 2) and rows["jack"]["pending"] == 10
    # Edits weigh 1 + min(distance, 200) / 100: 1.5 and (capped) 3.0.
    assert rows["eddie"]["contribution_points"] == round(4.5 * wilson_lower_bound(2, 3), 2)
    assert rows["vera"]["verify_agreed"] == 3 and rows["vera"]["verify_votes"] == 4
    assert rows["vera"]["points"] == round(0.25 * 3 * wilson_lower_bound(3, 4), 2)
    assert [row["contributor"] for row in de["results"]] == ["cara", "eddie", "jack", "vera"]
    assert [row["rank"] for row in de["results"]] == [1, 2, 3, 4]
    assert rows["cara"]["points"] > 3 * rows["jack"]["points"]
    assert de["ranked"] == {"de": 4}
    (mine,) = de["me"]
    assert mine["contributor"] == "jack" and mine["rank"] == 3

    everywhere = board(cara)
    assert [(row["language"], row["contributor"]) for row in everywhere["results"]][-1] == ("en", "cara")
    assert {row["language"]: row["rank"] for row in everywhere["me"]} == {"de": 1, "en": 1}
    assert len(board(cara, language="de", limit=2)["results"]) == 2


def test_ties_share_a_rank_and_work_without_points_has_none(store):
    ana, ben, cy = (make_annotator(name, ["de"]) for name in ("ana", "ben", "cy"))
    store.add(ana, "accepted", n=2)
    store.add(ben, "accepted", n=2)
    store.add(cy, "pending", n=3)
    reply = board(cy, language="DE")  # the code as the store spells it
    assert [(row["contributor"], row["rank"]) for row in reply["results"]] == [("ana", 1), ("ben", 1)]
    assert reply["me"][0]["rank"] is None and reply["me"][0]["points"] == 0


def test_bad_leaderboard_parameters_are_refused_with_a_message(store):
    ana = make_annotator("ana", ["de"])
    client = client_for(ana)
    reply = client.get("/api/v1/contributors/leaderboard/", {"language": "xx-nowhere"})
    assert reply.status_code == 400 and "Unknown language" in reply.json()["detail"]
    assert client.get("/api/v1/contributors/leaderboard/", {"limit": "0"}).status_code == 400
    assert client_for(None).get("/api/v1/contributors/leaderboard/").status_code in (401, 403)


def test_the_moderation_list_holds_mostly_rejected_decided_work_from_the_thresholds(store, reviewer, settings):
    names = ("mostly", "few", "half", "fine", "other")
    mostly, few, half, fine, other = (make_annotator(name, ["de", "en"]) for name in names)
    store.add(mostly, "rejected", n=3)
    store.add(mostly, "accepted", n=2)
    store.add(mostly, "pending", n=4)
    store.add(few, "rejected", n=4)  # below the 5 decided needed
    store.add(half, "rejected", n=3)
    store.add(half, "accepted", n=3)  # exactly half: not above the share
    store.add(fine, "accepted", n=6)
    store.add(other, "rejected", language="en", n=5)
    reviewers = client_for(reviewer)

    rows = reviewers.get("/api/v1/contributors/moderation/").json()
    assert [(row["contributor"], row["language"]) for row in rows] == [("other", "en"), ("mostly", "de")]
    assert rows[1] == {
        "contributor": "mostly",
        "language": "de",
        "accepted": 2,
        "rejected": 3,
        "pending": 4,
        "decided": 5,
        "rejected_share": 0.6,
        "contributions": "/api/v1/contributions/?contributor=mostly&language=de",
    }
    linked = reviewers.get(rows[1]["contributions"]).json()["results"]
    assert len(linked) == 9 and {row["contributor"] for row in linked} == {"mostly"}
    assert [row["contributor"] for row in reviewers.get("/api/v1/contributors/moderation/?language=de").json()] == [
        "mostly"
    ]

    settings.CONTRIBUTOR_MODERATION_MIN_DECIDED = 4
    settings.CONTRIBUTOR_MODERATION_REJECTED_SHARE = 0.4
    listed = {row["contributor"] for row in reviewers.get("/api/v1/contributors/moderation/").json()}
    assert listed == {"mostly", "few", "half", "other"}


def test_an_annotator_reads_the_board_but_neither_the_moderation_list_nor_an_override(store, staff):
    ana, bob = make_annotator("ana", ["de"]), make_annotator("bob", ["de"])
    (contribution,) = store.add(bob, "pending")
    Contribution.objects.filter(pk=contribution.pk).update(disputed=True)
    client = client_for(ana)
    assert client.get("/api/v1/contributors/moderation/").status_code == 403
    reply = client.post(
        f"/api/v1/contributions/{contribution.pk}/override/", {"status": "accepted", "reason": "ok"}, format="json"
    )
    assert reply.status_code == 403
    contribution.refresh_from_db()
    assert contribution.status == "pending" and contribution.override_status == ""
    assert client_for(staff).get("/api/v1/contributors/moderation/").status_code == 200


def test_the_leaderboards_queries_do_not_grow_with_the_contributions(store):
    ana, bob, vic = (make_annotator(name, ["de"]) for name in ("ana", "bob", "vic"))
    few = store.add(ana, "accepted")
    Verdict.objects.create(contribution=few[0], voter=vic, up=True)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            board(vic, language="de")
        return len(captured)

    before = queries()
    for contribution in store.add(bob, "accepted", n=6) + store.add(ana, "rejected", kind="edit", n=4, distance=9):
        Verdict.objects.create(contribution=contribution, voter=vic, up=contribution.status == "accepted")
    assert queries() == before


# --- The reviewer queue page -----------------------------------------------------------------------------------


def page_client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_the_queue_page_shows_flagged_translations_beside_their_source_and_disputed_votes(store, reviewer):
    nour, luis = make_annotator("nour", ["ar", "en"]), make_annotator("luis", ["ar", "en"])
    campaign = catalog.campaign_create(name="ترجم", languages=["en", "ar"], kind="translate")
    prompt = catalog.prompt_create(content="How do I keep bread fresh?", language="en")
    (task,), _ = contributing.contribution_tasks_add(campaign=campaign, prompts=[prompt.pk])
    translation = Contribution.objects.create(
        task=task,
        contributor=nour,
        kind="translate",
        language_id="ar",
        content="كيف أحافظ على الخبز؟",
        flagged=True,
        similarity=0.21,
        check_note="below 0.5",
    )
    (disputed,) = store.add(nour, "pending", language="en")
    Contribution.objects.filter(pk=disputed.pk).update(disputed=True, up_votes=1, down_votes=1)
    Verdict.objects.create(contribution=disputed, voter=luis, up=False, reason="Off topic.")
    store.add(nour, "pending", language="en")  # neither flagged nor disputed: not in the queue

    page = page_client(reviewer).get("/review/contributions/").content.decode()
    item = page[page.index(f'id="item-{translation.pk}"') : page.index(f'id="item-{disputed.pk}"')]
    assert "English → Arabic" in item and "similarity 0.21" in item and "below 0.5" in item
    assert 'lang="en" dir="ltr">How do I keep bread fresh?</div>' in item
    assert 'lang="ar" dir="rtl">كيف أحافظ على الخبز؟</div>' in item
    rest = page[page.index(f'id="item-{disputed.pk}"') :]
    assert "1 up, 1 down" in rest and "luis" in rest and "Off topic." in rest
    assert page.count('class="q-item"') == 2 and "queue-more" not in page
    assert page_client(make_annotator("ann", ["en"])).get("/review/contributions/").status_code == 403


def test_the_queue_page_walks_its_cursor(store, reviewer, monkeypatch):
    from webapp.feedback import contributors

    monkeypatch.setattr(contributors, "QUEUE_PAGE", 2)
    writer = make_annotator("wen", ["de"])
    rows = store.add(writer, "pending", n=5)
    Contribution.objects.update(disputed=True)
    client = page_client(reviewer)
    first = client.get("/review/contributions/").content.decode()
    assert first.count('class="q-item"') == 2 and f'href="?after={rows[1].pk}"' in first
    last = client.get(f"/review/contributions/?after={rows[3].pk}").content.decode()
    assert last.count('class="q-item"') == 1 and "queue-more" not in last
    assert client.get("/review/contributions/?after=x").status_code == 404


def test_the_queue_page_with_items_and_the_review_pages_moderation_leave_no_string_untranslated(
    store, reviewer, pseudo_locale
):
    # override_settings inside the pseudo locale's own override: the `settings` fixture would restore, at its
    # teardown, the settings it saw (the pseudo locale's LOCALE_PATHS) and leave every later test untranslated.
    with override_settings(CONTRIBUTOR_MODERATION_MIN_DECIDED=1):
        queue_and_review_pages_leave_no_string_untranslated(store, reviewer, pseudo_locale)


def queue_and_review_pages_leave_no_string_untranslated(store, reviewer, pseudo_locale):
    writer, voter = make_annotator("wen", ["de"]), make_annotator("vo", ["de"])
    (disputed,) = store.add(writer, "pending")
    Contribution.objects.filter(pk=disputed.pk).update(disputed=True, flagged=True, similarity=0.3, check_note="n")
    Verdict.objects.create(contribution=disputed, voter=voter, up=True, reason="Gut.")
    store.add(writer, "rejected", kind="edit", distance=7)
    client = page_client(reviewer)
    assert test_i18n.untranslated(test_i18n.get(client, "/review/contributions/", pseudo_locale)) == []
    review = test_i18n.get(client, "/review/", pseudo_locale)
    assert 'id="moderation"' in review and ">wen</td>" in review
    assert [text for text in test_i18n.untranslated(review) if text not in ("German", "de")] == []


def test_the_median_read_from_a_histogram_is_statistics_median():
    import random
    import statistics
    from collections import Counter

    from webapp.feedback.selectors import histogram_median

    rng = random.Random(7)
    for _ in range(300):
        values = [rng.randint(0, 12) for _ in range(rng.randint(1, 9))]
        histogram = sorted(Counter(values).items())
        assert histogram_median(histogram) == statistics.median(values), values
