"""The review report read from its summary (webapp/feedback/quality/summary.py) equals the full
recomputation (quality/review.py) as of the summary's fold, after a seeded random sequence of submits,
skips, imports, judge labels, gold changes, overlap changes and deletions (task, annotation, campaign) with
folds of random size in between; so do the home page's figures (tasks open and done, annotations and
agreement per language) and the trust weights pair derivation takes, after every catch-up and after
contributions and verify votes; the page and the API say when the figures are from and when they are behind;
the periodic task folds."""

import json
import math
import random
from dataclasses import asdict

import pytest
from django.db import transaction
from django.db.models import Count
from django.test import Client, override_settings

from tests.conftest import make_annotator
from tests.feedback.factories import campaign_with_tasks
from webapp.feedback.extensions import Judge, judges
from webapp.feedback.models import (
    COMPLETE,
    Annotation,
    Campaign,
    OperationKind,
    PreferenceRecord,
    ReviewDirty,
    Skip,
    Task,
)
from webapp.feedback.quality.fold import review_catch_up, review_fold, review_state
from webapp.feedback.quality.review import agreement_rows, review_report
from webapp.feedback.quality.summary import summary_overview
from webapp.feedback.quality.trust import annotator_quality, load_facts, load_skips, trust_weights
from webapp.feedback.services import assignment, catalog, operations
from webapp.feedback.services.importing import feedback_import
from webapp.feedback.services.judging import judge_label
from webapp.feedback.services.suggestions import campaign_set_suggestions
from webapp.feedback.sources import human_rankings
from workers.tasks.review import fold_review

pytestmark = pytest.mark.django_db

MODELS = ["model-0", "model-1", "model-2"]
SUMMARY_ONLY = ("as_of", "pending", "next")


@pytest.fixture
def two_judges(monkeypatch):
    """Judges that rank in stored order (the last two tied) and in reverse."""

    def in_order(prompt, texts, language):
        return [[i] for i in range(len(texts) - 2)] + [[len(texts) - 2, len(texts) - 1]]

    def reverse(prompt, texts, language):
        return [[i] for i in reversed(range(len(texts)))]

    monkeypatch.setitem(judges._items, "order", Judge(name="order", version="1", rank=in_order))
    monkeypatch.setitem(judges._items, "reverse", Judge(name="reverse", version="1", rank=reverse))


def random_ranking(rng: random.Random, n: int) -> list[list[int]]:
    """A random ranking of n responses, with ties now and then."""
    order = list(range(n))
    rng.shuffle(order)
    ranking: list[list[int]] = []
    for position in order:
        if ranking and rng.random() < 0.25:
            ranking[-1].append(position)
        else:
            ranking.append([position])
    return ranking


def summary_report(api_client, query: str) -> dict:
    """GET /api/v1/review/ without folding on read, every list followed to its end through `next`."""
    with override_settings(REVIEW_FOLD_ON_READ=0):
        report = api_client.get(f"/api/v1/review/?{query}").json()
        cursors = dict(report["next"])
        while any(cursors.values()):
            for name, cursor in list(cursors.items()):
                if cursor:
                    page = api_client.get(f"/api/v1/review/?{query}&{name}_cursor={cursor}").json()
                    report[name] += page[name]
                    cursors[name] = page["next"][name]
    return report


def full_report_as_of(filters: dict) -> dict:
    """review_report over the rows up to the summary's watermark: rows above it are deleted in a
    savepoint rolled back afterwards."""
    state = review_state()
    with transaction.atomic():
        Annotation.objects.filter(pk__gt=state.annotation_id).delete()
        Skip.objects.filter(pk__gt=state.skip_id).delete()
        full = json.loads(json.dumps(review_report(**filters).as_dict()))
        transaction.set_rollback(True)
    return full


def same(a, b, path="report") -> None:
    if isinstance(a, float) or isinstance(b, float):
        assert a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (path, a, b)
    elif isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), (path, sorted(a), sorted(b))
        for key in a:
            same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), (path, a, b)
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{path}[{i}]")
    else:
        assert a == b, (path, a, b)


def assert_equal_to_full(api_client, filters: dict) -> None:
    query = "&".join(f"{k if k != 'campaign_id' else 'campaign'}={v}" for k, v in filters.items())
    summary = summary_report(api_client, query)
    assert summary["as_of"] is not None
    full = full_report_as_of(filters)
    for key in SUMMARY_ONLY:
        summary.pop(key)
        full.pop(key)
    # The summary lists gold misses newest task first, the full report in annotation order; same rows.
    order = lambda row: (row["task"], row["annotator"])  # noqa: E731
    summary["gold_misses"].sort(key=order)
    full["gold_misses"].sort(key=order)
    # Annotator rows: the same set (an approximate median could reorder equal trusts; these seconds are exact).
    by_person = lambda rows: {(r["annotator_id"], r["language"]): r for r in rows}  # noqa: E731
    same(by_person(summary.pop("annotators")), by_person(full.pop("annotators")), f"annotators {query}")
    same(summary, full, f"report {query}")


def full_overview() -> dict:
    """The home page's summary figures recomputed from every row, as webapp/pages/dashboard.py did before
    the summary (alive tasks of alive campaigns; every human ranking)."""
    tasks = (
        Task.objects.alive()
        .filter(campaign__deleted_at__isnull=True)
        .values("language_id")
        .annotate(
            total=Count("id", distinct=True),
            done=Count("id", filter=COMPLETE, distinct=True),
            annotations=Count("annotations", filter=human_rankings("annotations__")),
        )
    )
    languages = {
        row["language_id"]: {
            "tasks": row["total"],
            "done": row["done"],
            "open": row["total"] - row["done"],
            "annotations": row["annotations"],
        }
        for row in tasks
    }
    facts = load_facts()
    for code in {fact.language for fact in facts}:
        (row,) = agreement_rows([fact for fact in facts if fact.language == code])[:1]
        languages[code].update(alpha=row.alpha, pairwise=row.pairwise)
    overall = agreement_rows(facts)[0]
    trust = {(row.annotator_id, row.language): row.trust for row in annotator_quality(facts, load_skips())}
    records: dict[str, dict[str, int]] = {}
    for row in PreferenceRecord.objects.alive().values("language_id", "source").annotate(n=Count("id")):
        records.setdefault(row["language_id"], {})[row["source"]] = row["n"]
    return {"languages": languages, "agreement": asdict(overall), "trust": trust, "records": records}


def assert_home_equal_to_full() -> None:
    """After a catch-up: the home page's figures and the trust weights equal the full recomputation."""
    overview = summary_overview()
    assert overview.pending == 0 and overview.as_of is not None
    full = full_overview()
    same(overview.languages, full["languages"], "home languages")
    same(asdict(overview.agreement), full["agreement"], "home agreement")
    same(overview.records, full["records"], "home records")
    weights = trust_weights()
    assert weights.keys() == full["trust"].keys()
    for key, value in weights.items():
        same(value, full["trust"][key], f"trust {key}")


class Store:
    """The random sequence: what exists, and one step at a time."""

    def __init__(self, rng: random.Random, staff, tmp_path):
        self.rng, self.staff, self.tmp_path = rng, staff, tmp_path
        self.people = [make_annotator(f"person{i}", ["en", "de"]) for i in range(4)]
        self.a, en = campaign_with_tasks(n_tasks=5, language="en", overlap=3, name="A", group_prefix="g")
        _, de = campaign_with_tasks(n_tasks=5, language="de", overlap=3, name="A", group_prefix="g")
        # B's English tasks are the other side of translation groups A has in German: deleting B takes
        # those groups out of the consistency over every campaign.
        _, de_h = campaign_with_tasks(n_tasks=4, language="de", overlap=3, n_responses=2, name="A", group_prefix="h")
        self.b, other = campaign_with_tasks(
            n_tasks=4, language="en", overlap=3, n_responses=2, name="B", group_prefix="h"
        )
        self.tasks = [*en, *de, *de_h, *other]
        self.imports = 0

    def alive_tasks(self) -> list[Task]:
        return list(Task.objects.alive().filter(campaign__deleted_at__isnull=True).order_by("pk"))

    def submit(self, task: Task | None = None) -> None:
        task = task or self.rng.choice(self.alive_tasks())
        person = self.rng.choice(self.people)
        n = task.items.count()
        order = list(range(n))
        self.rng.shuffle(order)
        assignment.tasks_next(user=person, campaign_id=task.campaign_id)
        try:
            assignment.annotation_submit(
                user=person,
                task_id=task.pk,
                ranking=random_ranking(self.rng, n),
                display_order=order if self.rng.random() < 0.8 else [],
                flags=self.rng.choice([[], [], [], ["wrong_language"], ["unsafe"]]),
                rationale=self.rng.choice(["", "", "clear winner"]),
                seconds=self.rng.choice([None, round(self.rng.uniform(0.5, 40), 1)]),
            )
        except Exception:  # noqa: BLE001  (a full or already annotated task refuses: nothing written)
            pass

    def skip(self) -> None:
        task = self.rng.choice(self.alive_tasks())
        try:
            assignment.task_skip(user=self.rng.choice(self.people), task_id=task.pk)
        except Exception:  # noqa: BLE001  (already annotated: refused, nothing written)
            pass

    def import_rankings(self) -> None:
        lines = []
        for _ in range(self.rng.randint(1, 3)):
            self.imports += 1
            language = self.rng.choice(["en", "de"])
            rankings = [
                {
                    "annotator": f"imported{k}",
                    "ranking": random_ranking(self.rng, 3),
                    "flags": self.rng.choice([[], [], ["all_bad"]]),
                    "rationale": "from the file",
                }
                for k in self.rng.sample(range(4), self.rng.randint(1, 3))
            ]
            lines.append(
                {
                    "id": f"imported-{self.imports}",
                    "prompt": f"Imported question {self.imports} ({language})",
                    "language": language,
                    "group": f"g{self.rng.randrange(5)}",
                    "responses": [{"text": f"answer {j} of {self.imports}", "model": m} for j, m in enumerate(MODELS)],
                    "rankings": rankings,
                }
            )
        path = self.tmp_path / f"import-{self.imports}.jsonl"
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))
        feedback_import(path=str(path))

    def import_pairs(self) -> None:
        """Preference records (the home page counts them per language and source)."""
        self.imports += 1
        lines = [
            {
                "id": f"pair-{self.imports}-{k}",
                "prompt": f"Pair question {self.imports}.{k}",
                "chosen": "the better answer",
                "rejected": "the worse answer",
                "language": self.rng.choice(["en", "de"]),
            }
            for k in range(self.rng.randint(1, 3))
        ]
        path = self.tmp_path / f"pairs-{self.imports}.jsonl"
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))
        feedback_import(path=str(path))

    def delete_record(self) -> None:
        records = list(PreferenceRecord.objects.alive().order_by("pk"))
        if records:
            catalog.preference_delete(record=self.rng.choice(records))

    def judge(self) -> None:
        judge_label(task_id=self.rng.choice(self.alive_tasks()).pk, judge=self.rng.choice(["order", "reverse"]))

    def gold(self) -> None:
        task = self.rng.choice(self.alive_tasks())
        position = self.rng.choice([None, 0, 1])
        catalog.task_set_gold(task=task, position=position)

    def delete_task(self) -> None:
        catalog.task_delete(task=self.rng.choice(self.alive_tasks()))

    def delete_annotation(self) -> None:
        ids = list(Annotation.objects.values_list("pk", flat=True))
        if ids:
            Annotation.objects.filter(pk=self.rng.choice(ids)).delete()

    def delete_campaign(self) -> None:
        """Campaign B, marked deleted at launch: its tasks vanish from the report at once (and its share of
        A's translation groups with them); the job soft-deletes the tasks later (`finish_campaign_deletion`)."""
        self.b_job = operations.operation_launch(
            campaign=self.b, kind=OperationKind.DELETE, params={}, user=self.staff
        ).pk

    def overlap(self) -> None:
        """Staff change a campaign's overlap: tasks done are counted against the new one at once."""
        Campaign.objects.filter(pk=self.rng.choice([self.a, self.b]).pk).update(overlap=self.rng.choice([1, 2, 3]))

    def finish_campaign_deletion(self) -> None:
        operations.operation_run(self.b_job)

    def suggest(self) -> None:
        """Campaign A shows a judge's ranking as the starting order (the judge ranks its tasks first),
        holding a share of tasks out."""
        for task in Task.objects.alive().filter(campaign=self.a):
            judge_label(task_id=task.pk, judge="order")
        campaign_set_suggestions(campaign=self.a, judge="order@1", holdout=self.rng.choice([0.3, 0.5, 0.7]))
        for task in self.rng.sample(list(Task.objects.alive().filter(campaign=self.a).order_by("pk")), 4):
            self.submit(task)  # with the suggestion, or held out


STEPS = {
    "submit": 40,
    "skip": 8,
    "import_rankings": 6,
    "judge": 6,
    "gold": 6,
    "delete_task": 4,
    "delete_annotation": 5,
    "overlap": 3,
    "import_pairs": 2,
    "delete_record": 2,
    "fold": 12,
    "catch_up": 8,
}


@pytest.mark.parametrize("seed", [1, 2])
def test_the_summary_equals_a_full_recomputation_after_random_work(seed, api, reviewer, staff, two_judges, tmp_path):
    rng = random.Random(seed)
    store = Store(rng, staff, tmp_path)
    client = api(reviewer)
    filters = [{}, {"source": "annotation"}, {"source": "import"}, {"language": "de"}]
    compared = 0
    for number in range(110):
        step = rng.choices(list(STEPS), weights=list(STEPS.values()))[0]
        step = {
            20: "suggest",
            30: "import_pairs",
            55: "delete_record",
            45: "delete_campaign",
            46: "catch_up",
            65: "finish_campaign_deletion",
            70: "suggest",
        }.get(number, step)
        if step == "fold":
            review_fold(rng.randint(1, 6))  # a partial fold: equal as of its watermark, if markers are in
            if not ReviewDirty.objects.filter(pk__gt=review_state().dirty_id).exists():
                assert_equal_to_full(client, rng.choice(filters))
                compared += 1
        elif step == "catch_up":
            review_catch_up(rng.randint(1, 10))
            assert_equal_to_full(client, rng.choice([*filters, {"campaign_id": store.a.pk}]))
            assert_home_equal_to_full()
            compared += 1
        else:
            getattr(store, step)()
    review_catch_up(7)
    for chosen in [*filters, {"campaign_id": store.a.pk}, {"campaign_id": store.a.pk, "source": "import"}]:
        assert_equal_to_full(client, chosen)
    assert_home_equal_to_full()
    assert compared >= 15
    assert Annotation.objects.filter(source="import").exists() and Skip.objects.exists()
    assert Annotation.objects.exclude(suggested_by="").exists()
    assert PreferenceRecord.objects.exclude(deleted_at=None).exists()  # imported, and one deleted at least


def test_a_forgotten_deletion_would_show(api, reviewer, annotator, annotator2, monkeypatch):
    """The equality check can fail: a task deleted without its marker stays in the summary."""
    _, tasks = campaign_with_tasks(n_tasks=2, overlap=2)
    for person in (annotator, annotator2):
        assignment.tasks_next(user=person, campaign_id=tasks[0].campaign_id)
        assignment.annotation_submit(user=person, task_id=tasks[0].pk, ranking=[[0], [1], [2]])
    review_catch_up()
    Task.objects.filter(pk=tasks[0].pk).update(deleted_at="2026-01-01T00:00:00Z")  # no review_mark
    with pytest.raises(AssertionError):
        assert_equal_to_full(api(reviewer), {})
    catalog.task_delete(task=tasks[0])  # with its marker
    review_catch_up()
    assert_equal_to_full(api(reviewer), {})


def page(user, query: str = "") -> str:
    client = Client()
    client.force_login(user)
    reply = client.get(f"/review/{query}")
    assert reply.status_code == 200
    return reply.content.decode()


def test_the_page_and_the_api_say_when_the_figures_are_from_and_when_they_are_behind(api, reviewer, annotator):
    _, tasks = campaign_with_tasks(n_tasks=3, overlap=1)
    for task in tasks[:2]:
        assignment.tasks_next(user=annotator, campaign_id=task.campaign_id)
        assignment.annotation_submit(user=annotator, task_id=task.pk, ranking=[[0], [1], [2]])
    report = api(reviewer).get("/api/v1/review/").json()  # few rows pending: the read folds them
    assert report["as_of"] and report["pending"] == 0 and report["agreement"][0]["annotations"] == 2
    assert "Figures as of" in page(reviewer) and "Behind" not in page(reviewer)
    assignment.tasks_next(user=annotator, campaign_id=tasks[2].campaign_id)
    assignment.annotation_submit(user=annotator, task_id=tasks[2].pk, ranking=[[2], [1], [0]])
    with override_settings(REVIEW_FOLD_ON_READ=0):  # more pending than a read folds: it answers, behind
        behind = api(reviewer).get("/api/v1/review/").json()
        assert behind["pending"] == 1 and behind["agreement"][0]["annotations"] == 2
        assert behind["as_of"] == review_state().as_of.isoformat() <= report["as_of"]  # the last fold's time
        assert "Behind: 1 new row is not in these figures yet" in page(reviewer)
        assert fold_review() == 1  # the periodic task folds it
        caught_up = api(reviewer).get("/api/v1/review/").json()
    assert caught_up["pending"] == 0 and caught_up["agreement"][0]["annotations"] == 3
    assert caught_up["as_of"] > report["as_of"]


def test_long_lists_come_a_page_at_a_time(api, reviewer, annotator, monkeypatch):
    monkeypatch.setattr("webapp.feedback.quality.summary.TASK_ROWS", 2)
    monkeypatch.setattr("webapp.feedback.quality.summary.LIST_ROWS", 2)
    _, tasks = campaign_with_tasks(n_tasks=5, overlap=1)
    for task in tasks:
        catalog.task_set_gold(task=task, position=2)
        assignment.tasks_next(user=annotator, campaign_id=task.campaign_id)
        assignment.annotation_submit(user=annotator, task_id=task.pk, ranking=[[0], [1], [2]], flags=["unsafe"])
    client = api(reviewer)
    first = client.get("/api/v1/review/").json()
    newest = sorted((t.pk for t in tasks), reverse=True)
    assert [row["task"] for row in first["tasks"]] == newest[:2]
    second = client.get(f"/api/v1/review/?tasks_cursor={first['next']['tasks']}").json()
    assert [row["task"] for row in second["tasks"]] == newest[2:4]
    last = client.get(f"/api/v1/review/?tasks_cursor={second['next']['tasks']}").json()
    assert [row["task"] for row in last["tasks"]] == newest[4:] and last["next"]["tasks"] is None
    assert [row["task"] for row in first["gold_misses"]] == newest[:2]
    assert [row["task"] for row in first["flagged"]] == sorted(t.pk for t in tasks)[:2]
    html = page(reviewer)
    assert 'id="more-tasks"' in html and "tasks_cursor=" in html


def test_consistency_comes_a_page_at_a_time_most_inconsistent_first(api, reviewer, monkeypatch):
    monkeypatch.setattr("webapp.feedback.quality.summary.LIST_ROWS", 2)
    en, de = make_annotator("en-ann", ["en"]), make_annotator("de-ann", ["de"])
    # Groups whose names a database collation would order otherwise than Python ("G1" < "g0" < "ä0" by code point).
    tasks_en, tasks_de = [], []
    for prefix in ("g", "G", "ä"):
        tasks_en += campaign_with_tasks(n_tasks=3, language="en", overlap=1, name="C", group_prefix=prefix)[1]
        tasks_de += campaign_with_tasks(n_tasks=3, language="de", overlap=1, name="C", group_prefix=prefix)[1]
    # German agrees with English on some groups, reverses it on others, flips one pair on the rest.
    german = [[[0], [1], [2]], [[2], [1], [0]], [[1], [0], [2]]]
    for i, (task_en, task_de) in enumerate(zip(tasks_en, tasks_de, strict=True)):
        for person, task, ranking in ((en, task_en, [[0], [1], [2]]), (de, task_de, german[i % 3])):
            assignment.tasks_next(user=person, campaign_id=task.campaign_id)
            assignment.annotation_submit(user=person, task_id=task.pk, ranking=ranking)
    client = api(reviewer)
    full = review_report().as_dict()["consistency"]
    rows, cursor = [], ""
    while True:
        page_json = client.get(f"/api/v1/review/?consistency_cursor={cursor}").json()
        assert len(page_json["consistency"]) <= 2
        rows += page_json["consistency"]
        cursor = page_json["next"]["consistency"]
        if cursor is None:
            break
    assert len(full) == 9 and rows == json.loads(json.dumps(full))
    assert client.get("/api/v1/review/?consistency_cursor=%%%").status_code == 400
    reply = client.get("/api/v1/review/?tasks_cursor=nope")
    assert reply.status_code == 400 and "tasks_cursor" in reply.json()["detail"]


def test_a_row_committed_below_the_watermark_is_still_folded(api, reviewer, annotator):
    """Ids are taken before commit: a row may appear below ids already folded (a long import beside live
    submits). The ids a fold did not see stay holes it reads again."""
    _, tasks = campaign_with_tasks(n_tasks=3, overlap=1)
    for task in tasks:
        assignment.tasks_next(user=annotator, campaign_id=task.campaign_id)
        assignment.annotation_submit(user=annotator, task_id=task.pk, ranking=[[0], [1], [2]])
    middle = Annotation.objects.get(task=tasks[1])
    Annotation.objects.filter(pk=middle.pk).delete()  # its id is free: as if its transaction had not committed
    review_catch_up()

    def in_a_hole(pk: int) -> bool:
        return any(lo <= pk <= hi for lo, hi, _seen in review_state().holes["annotation"])

    assert in_a_hole(middle.pk)
    Annotation.objects.create(pk=middle.pk, task=tasks[1], annotator=annotator, ranking=[[2], [1], [0]])
    assert ReviewDirty.objects.filter(pk__gt=review_state().dirty_id).count() == 0  # nothing but the row
    with override_settings(REVIEW_FOLD_ON_READ=0):  # the row counts as pending: the figures are not "now"
        assert api(reviewer).get("/api/v1/review/").json()["pending"] == 1
    review_catch_up()
    assert_equal_to_full(api(reviewer), {})
    assert not in_a_hole(middle.pk)


def test_more_holes_than_kept_are_merged_and_still_read(api, reviewer, annotator, monkeypatch):
    monkeypatch.setattr("webapp.feedback.quality.fold.MAX_HOLES", 1)
    _, tasks = campaign_with_tasks(n_tasks=5, overlap=1)
    for task in tasks:
        assignment.tasks_next(user=annotator, campaign_id=task.campaign_id)
        assignment.annotation_submit(user=annotator, task_id=task.pk, ranking=[[0], [1], [2]])
    gone = [Annotation.objects.get(task=tasks[i]) for i in (1, 3)]
    Annotation.objects.filter(pk__in=[a.pk for a in gone]).delete()
    review_catch_up()  # two holes, kept as one merged hole over the row between them
    (hole,) = [h for h in review_state().holes["annotation"] if h[0] <= gone[0].pk <= h[1]]
    assert hole[1] >= gone[1].pk and len(hole) == 4
    with override_settings(REVIEW_FOLD_ON_READ=0):  # the folded row inside it is not pending
        assert api(reviewer).get("/api/v1/review/").json()["pending"] == 0
    Annotation.objects.create(pk=gone[1].pk, task=tasks[3], annotator=annotator, ranking=[[1], [0], [2]])
    review_catch_up()
    assert_equal_to_full(api(reviewer), {})


def test_contributions_and_verify_votes_count_in_the_home_pages_tasks_done(staff):
    """A contribution or a verify vote takes a slot without an annotation: the summary folds it all the same."""
    from tests.conftest import client_for
    from tests.feedback.test_contributions import add_tasks, contribute, people, vote, with_verifier

    admin = client_for(staff)
    write, verifier = with_verifier(admin, "Write", "write")
    add_tasks(admin, write["id"], prompts=[catalog.prompt_create(content="Name a river.", language="en").pk])
    author, *voters = people("author", "v1", "v2", "v3")
    done = []
    for step in (
        lambda: None,
        lambda: contribute(author, write["id"], "The Danube."),
        lambda: vote(voters[:2], verifier["id"], [True, False]),
        lambda: vote(voters[2:], verifier["id"], [True]),
    ):
        step()
        review_catch_up()
        assert_home_equal_to_full()
        figures = summary_overview().languages["en"]
        done.append((figures["tasks"], figures["done"]))
    # the write task, then done; its verify task (three votes wanted) appears open, then done
    assert done == [(1, 0), (2, 1), (2, 1), (2, 2)]
