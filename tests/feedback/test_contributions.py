"""Contribution tasks through the HTTP API, as annotators and staff use them: for each kind (write, reply, edit,
translate) next -> contribute -> three others verify -> accepted, rejected or disputed; what each refuses and why;
the reviewer queue and override; per contributor figures; where the data goes (demonstrations, an edit's pair,
translation groups, exports with and without --include-pending); the translation check on the real encoder."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from ml.embedding import translation_check
from tests.conftest import client_for, make_annotator
from webapp.feedback.models import Contribution, Demonstration, PreferenceRecord, Prompt, Task, Verdict
from webapp.feedback.services import catalog
from webapp.retrieval.translation import translation_check_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(staff):
    return client_for(staff)


def people(*names: str, languages=("en", "de")) -> list:
    return [client_for(make_annotator(name, list(languages))) for name in names]


def campaign(admin, name: str, kind: str, languages=("en",), **settings) -> dict:
    reply = admin.post(
        "/api/v1/campaigns/", {"name": name, "kind": kind, "languages": list(languages), **settings}, format="json"
    )
    assert reply.status_code == 201, reply.content
    return reply.json()


def with_verifier(admin, name: str, kind: str, languages=("en",), overlap=1, **verify) -> tuple[dict, dict]:
    source = campaign(admin, name, kind, languages, overlap=overlap)
    verifier = campaign(admin, f"{name} verify", "verify", languages, overlap=3, verifies=source["id"], **verify)
    return source, verifier


def add_tasks(admin, campaign_id: int, **ids) -> dict:
    reply = admin.post(f"/api/v1/campaigns/{campaign_id}/tasks/", ids, format="json")
    assert reply.status_code == 201, reply.content
    return reply.json()


def take(client, campaign_id: int) -> dict | None:
    reply = client.post("/api/v1/tasks/next/", {"campaign": campaign_id}, format="json")
    assert reply.status_code == 200, reply.content
    return reply.json()["task"]


def contribute(client, campaign_id: int, text: str) -> dict:
    task = take(client, campaign_id)
    reply = client.post(f"/api/v1/tasks/{task['id']}/contributions/", {"text": text, "seconds": 12.5}, format="json")
    assert reply.status_code == 201, reply.content
    return reply.json()


def vote(clients, verifier_id: int, ups) -> list[dict]:
    shown = []
    for client, up in zip(clients, ups, strict=True):
        task = take(client, verifier_id)
        assert task is not None and task["kind"] == "verify"
        shown.append(task)
        reply = client.post(f"/api/v1/tasks/{task['id']}/verdicts/", {"up": up, "reason": "checked"}, format="json")
        assert reply.status_code == 201, reply.content
    return shown


def export(fmt: str, *flags: str) -> list[dict]:
    out = StringIO()
    path = f"/tmp/var_kinds_export_{fmt}_{len(flags)}.jsonl"
    call_command("export_feedback", "--format", fmt, "--out", path, *flags, stdout=out)
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def test_write_is_verified_by_three_others_and_its_demonstration_is_then_exported(admin):
    write, verifier = with_verifier(admin, "Write", "write")
    prompt = catalog.prompt_create(content="Name three rivers of Europe.", language="en")
    add_tasks(admin, write["id"], prompts=[prompt.pk])
    author, *voters = people("author", "v1", "v2", "v3")

    task = take(author, write["id"])
    assert task["kind"] == "write" and task["responses"] == [] and task["prompt"]["id"] == prompt.pk
    assert task["target_language"] is None and task["contribution"] is None
    made = contribute_on(author, task, "The Danube, the Rhine and the Loire.")
    assert made["status"] == "pending" and made["kind"] == "write" and made["language"] == "en"
    demonstration = Demonstration.objects.get(pk=made["demonstration"])
    assert (demonstration.source, demonstration.status) == ("write", "pending")
    assert [row["completion"] for row in export("sft") if row["id"] == demonstration.external_id] == []
    assert take(author, verifier["id"]) is None  # nobody verifies their own work

    shown = vote(voters, verifier["id"], [True, True, True])
    assert shown[0]["contribution"] == {
        "id": made["id"],
        "kind": "write",
        "text": "The Danube, the Rhine and the Loire.",
        "original_text": None,
        "language": "en",
    }
    contribution = Contribution.objects.get(pk=made["id"])
    assert (contribution.status, contribution.up_votes, contribution.disputed) == ("accepted", 3, False)
    demonstration.refresh_from_db()
    assert demonstration.status == "accepted"
    rows = [row for row in export("sft") if row["id"] == demonstration.external_id]
    assert rows[0]["completion"] == [{"role": "assistant", "content": "The Danube, the Rhine and the Loire."}]
    assert Verdict.objects.filter(contribution=contribution, up=True).count() == 3
    for client in (author, voters[0]):
        progress = client.get("/api/v1/me/progress/").json()
        assert (progress["done_total"], progress["done_today"], progress["remaining"]) == (1, 1, 0)
    renewed = voters[0].post(f"/api/v1/tasks/{shown[0]['id']}/lease/", {}, format="json")
    assert renewed.status_code == 409  # done: no lease on it again


def contribute_on(client, task: dict, text: str) -> dict:
    reply = client.post(f"/api/v1/tasks/{task['id']}/contributions/", {"text": text}, format="json")
    assert reply.status_code == 201, reply.content
    return reply.json()


def test_an_edit_too_close_to_its_original_is_refused_with_the_count_and_a_rejected_edit_is_never_exported(admin):
    edit, verifier = with_verifier(admin, "Edit", "edit", overlap=2)
    prompt = catalog.prompt_create(content="What is the capital of Australia?", language="en")
    original = catalog.response_create(prompt=prompt, content="The capital of Australia is Sydney.", model_name="m1")
    add_tasks(admin, edit["id"], responses=[original.pk])
    first, second, *voters = people("e1", "e2", "v1", "v2", "v3")

    task = take(first, edit["id"])
    assert task["kind"] == "edit" and [r["text"] for r in task["responses"]] == [original.text]
    reply = first.post(
        f"/api/v1/tasks/{task['id']}/contributions/", {"text": "The capital of Australia is Sidney."}, format="json"
    )
    assert reply.status_code == 400
    assert reply.json()["detail"] == "The edit changes 1 character; at least 5 are needed."
    german = first.post(
        f"/api/v1/tasks/{task['id']}/contributions/",
        {"text": "The capital of Australia is Sydne."},
        format="json",
        HTTP_ACCEPT_LANGUAGE="de",
    )
    assert (
        german.status_code == 400 and "5" in german.json()["detail"] and "edit changes" not in german.json()["detail"]
    )

    good = contribute_on(first, task, "The capital of Australia is Canberra, not Sydney.")
    assert good["edit_distance"] >= 5 and good["original_text"] == original.text
    pair = PreferenceRecord.objects.get(pk=good["pair"])
    assert (pair.source, pair.status, pair.response_a, pair.response_b) == (
        "edit",
        "pending",
        "The capital of Australia is Canberra, not Sydney.",
        original.content,
    )
    assert not [r for r in export("dpo") if r["id"] == pair.external_id]
    assert [r["source"] for r in export("dpo", "--include-pending") if r["id"] == pair.external_id] == ["edit"]

    bad = contribute(second, edit["id"], "The capital of Australia is Melbourne, I think.")
    shown = vote(voters, verifier["id"], [True, True, True])  # each voter gets the earlier contribution first
    assert {t["contribution"]["id"] for t in shown} == {good["id"]}
    assert shown[0]["contribution"]["original_text"] == original.text
    vote(voters, verifier["id"], [False, False, True])
    assert Contribution.objects.get(pk=bad["id"]).status == "rejected"
    assert Contribution.objects.get(pk=good["id"]).status == "accepted"
    dpo = {r["id"]: r for r in export("dpo", "--include-pending")}
    assert pair.external_id in dpo and PreferenceRecord.objects.get(pk=bad["pair"]).external_id not in dpo
    sft = [r["id"] for r in export("sft", "--include-pending")]
    assert Demonstration.objects.get(pk=bad["demonstration"]).external_id not in sft
    # The accepted edit is one SFT row: its demonstration, not also its pair's chosen answer under the same id.
    assert sft.count(Demonstration.objects.get(pk=good["demonstration"]).external_id) == 1


def test_a_translation_joins_the_source_group_and_the_check_runs_on_the_real_encoder(admin):
    translate, verifier = with_verifier(admin, "Translate", "translate", languages=("en", "de", "sw"))
    prompt = catalog.prompt_create(content="The weather is nice today.", language="en")
    grouped = catalog.prompt_create(content="Where is the train station?", language="en", group="g-station")
    created = add_tasks(admin, translate["id"], prompts=[prompt.pk, grouped.pk])
    assert len(created["created"]) == 4  # into de and sw, for each prompt
    again = add_tasks(admin, translate["id"], prompts=[prompt.pk, grouped.pk])
    assert again == {"created": [], "existing": created["created"]}

    (translator,) = people("t1", languages=("de",))
    task = take(translator, translate["id"])
    assert task["kind"] == "translate" and task["language"] == "de" and task["prompt"]["language"] == "en"
    assert task["target_language"] == {"code": "de", "name": "German", "direction": "ltr"}
    made = contribute_on(translator, task, "Das Wetter ist heute schön.")
    source = Prompt.objects.get(pk=task["prompt"]["id"])
    new = Prompt.objects.get(pk=made["created_prompt"])
    assert source.group and new.group == source.group and new.language_id == "de" and new.source == "translate"
    assert new.metadata == {"translated_from": source.pk}

    result = translation_check_run(contribution_id=made["id"])
    contribution = Contribution.objects.get(pk=made["id"])
    assert result["checked"] and contribution.similarity is not None and contribution.checked_at is not None
    assert contribution.similarity > 0.5 and not contribution.flagged

    task2 = take(translator, translate["id"])
    off = contribute_on(translator, task2, "Der Bahnhof ist ein Fisch in der Suppe, sagt der Mond.")
    translation_check_run(contribution_id=off["id"])
    assert Prompt.objects.get(pk=off["created_prompt"]).group == "g-station"
    checked = Contribution.objects.get(pk=off["id"])
    assert checked.similarity is not None and checked.flagged == (checked.similarity < translation_check.THRESHOLD)

    (swahili,) = people("sw1", languages=("sw",))
    made_sw = contribute(swahili, translate["id"], "Hali ya hewa ni nzuri leo.")
    skipped = translation_check_run(contribution_id=made_sw["id"])
    contribution = Contribution.objects.get(pk=made_sw["id"])
    assert not skipped["checked"] and contribution.similarity is None and not contribution.flagged
    assert contribution.check_note == "skipped: use-multilingual-v3 was not trained on 'sw'"
    assert Task.objects.filter(campaign_id=verifier["id"], contribution=contribution, language_id="sw").exists()


def test_a_reply_continues_a_conversation_as_a_new_prompt(admin):
    reply_campaign = campaign(admin, "Reply", "reply")
    conversation = catalog.prompt_create(
        content=[{"role": "user", "content": "Hi!"}, {"role": "assistant", "content": "Hello, how can I help?"}],
        language="en",
    )
    plain = catalog.prompt_create(content="Just a question", language="en")
    refused = admin.post(f"/api/v1/campaigns/{reply_campaign['id']}/tasks/", {"prompts": [plain.pk]}, format="json")
    assert refused.status_code == 400 and "assistant" in refused.json()["detail"]
    add_tasks(admin, reply_campaign["id"], prompts=[conversation.pk])
    (user,) = people("r1")
    made = contribute(user, reply_campaign["id"], "Tell me a joke about cats.")
    new = Prompt.objects.get(pk=made["created_prompt"])
    assert new.content[-1] == {"role": "user", "content": "Tell me a joke about cats."} and len(new.content) == 3
    assert made["demonstration"] is None and made["pair"] is None


def test_disputed_votes_wait_in_the_review_queue_for_an_override_with_a_reason(admin):
    write, verifier = with_verifier(admin, "Disputed", "write", verify_share=0.8)
    add_tasks(admin, write["id"], prompts=[catalog.prompt_create(content="Say hi", language="en").pk])
    author, *voters = people("a1", "v1", "v2", "v3")
    made = contribute(author, write["id"], "Hi there!")
    vote(voters, verifier["id"], [True, True, False])
    contribution = Contribution.objects.get(pk=made["id"])
    assert (contribution.status, contribution.disputed) == ("pending", True)

    queue = admin.get("/api/v1/contributions/review-queue/")
    assert [c["id"] for c in queue.json()["results"]] == [made["id"]]
    assert author.get("/api/v1/contributions/review-queue/").status_code == 403
    no_reason = admin.post(f"/api/v1/contributions/{made['id']}/override/", {"status": "accepted"}, format="json")
    assert no_reason.status_code == 400
    blank = admin.post(
        f"/api/v1/contributions/{made['id']}/override/", {"status": "accepted", "reason": "  "}, format="json"
    )
    assert blank.status_code == 400
    done = admin.post(
        f"/api/v1/contributions/{made['id']}/override/",
        {"status": "accepted", "reason": "a fine greeting"},
        format="json",
    )
    assert done.status_code == 200, done.content
    body = done.json()
    assert (body["status"], body["override_status"], body["override_by"], body["disputed"]) == (
        "accepted",
        "accepted",
        "staff",
        False,
    )
    assert Demonstration.objects.get(pk=made["demonstration"]).status == "accepted"
    assert admin.get("/api/v1/contributions/review-queue/").json()["results"] == []


def test_what_each_kind_refuses_and_why(admin):
    write, verifier = with_verifier(admin, "Refusals", "write")
    ranking = campaign(admin, "Ranking", "ranking")
    prompt = catalog.prompt_create(content="Explain tides.", language="en")
    add_tasks(admin, write["id"], prompts=[prompt.pk])
    author, other = people("a1", "o1")
    task = take(author, write["id"])
    empty = author.post(f"/api/v1/tasks/{task['id']}/contributions/", {"text": "   "}, format="json")
    assert empty.status_code == 400 and "empty" in empty.json()["detail"]
    ranked = author.post(f"/api/v1/tasks/{task['id']}/annotations/", {"ranking": [[0]]}, format="json")
    assert ranked.status_code == 400 and "/contributions/" in ranked.json()["detail"]
    no_lease = other.post(f"/api/v1/tasks/{task['id']}/contributions/", {"text": "The moon."}, format="json")
    assert no_lease.status_code == 400 and "lease" in no_lease.json()["detail"]
    made = contribute_on(author, task, "The moon pulls the sea.")
    twice = author.post(f"/api/v1/tasks/{task['id']}/contributions/", {"text": "Again"}, format="json")
    assert twice.status_code == 409

    verify_task = Task.objects.get(campaign_id=verifier["id"], contribution_id=made["id"])
    own = author.post(f"/api/v1/tasks/{verify_task.pk}/verdicts/", {"up": True}, format="json")
    assert own.status_code == 403 and "own" in own.json()["detail"]
    wrong = other.post(f"/api/v1/tasks/{verify_task.pk}/contributions/", {"text": "x y z"}, format="json")
    assert wrong.status_code == 400 and "verify" in wrong.json()["detail"]
    unleased = other.post(f"/api/v1/tasks/{verify_task.pk}/verdicts/", {"up": True}, format="json")
    assert unleased.status_code == 400 and "lease" in unleased.json()["detail"]
    not_verify = other.post(f"/api/v1/tasks/{task['id']}/verdicts/", {"up": True}, format="json")
    assert not_verify.status_code == 400

    response_ids = [catalog.response_create(prompt=prompt, content=f"Answer {i}").pk for i in range(2)]
    into_write = admin.post(
        "/api/v1/tasks/", {"campaign": write["id"], "prompt": prompt.pk, "responses": response_ids}, format="json"
    )
    assert into_write.status_code == 400 and f"/campaigns/{write['id']}/tasks/" in into_write.json()["detail"]
    for target, body in (
        (ranking["id"], {"prompts": [prompt.pk]}),
        (verifier["id"], {"prompts": [prompt.pk]}),
        (write["id"], {"responses": response_ids}),
        (write["id"], {"prompts": [10**9]}),
        (write["id"], {}),
    ):
        refused = admin.post(f"/api/v1/campaigns/{target}/tasks/", body, format="json")
        assert refused.status_code == 400, (target, body, refused.content)
    assert (
        author.post(f"/api/v1/campaigns/{write['id']}/tasks/", {"prompts": [prompt.pk]}, format="json").status_code
        == 403
    )


def test_campaign_kinds_and_settings_are_checked_on_create_and_update(admin):
    write = campaign(admin, "W", "write")
    ranking = campaign(admin, "R", "ranking")
    assert (write["kind"], write["min_edit_distance"], write["verify_votes"], write["verify_share"]) == (
        "write",
        5,
        3,
        0.6,
    )
    for body, words in (
        ({"kind": "verify", "overlap": 3}, "verifies"),
        ({"kind": "verify", "overlap": 3, "verifies": ranking["id"]}, "ranking"),
        ({"kind": "write", "verifies": write["id"]}, "verify"),
        ({"kind": "verify", "overlap": 2, "verifies": write["id"]}, "verify_votes"),
        ({"kind": "verify", "overlap": 3, "verifies": 10**9}, "verifies"),
        ({"kind": "draw"}, "kind"),
        ({"kind": "write", "verify_share": 0.5}, "verify_share"),
    ):
        reply = admin.post("/api/v1/campaigns/", {"name": "X", "languages": ["en"], **body}, format="json")
        assert reply.status_code == 400 and words in json.dumps(reply.json()), (body, reply.content)
    changed = admin.patch(f"/api/v1/campaigns/{write['id']}/", {"min_edit_distance": 8}, format="json")
    assert changed.status_code == 200 and changed.json()["min_edit_distance"] == 8
    assert admin.patch(f"/api/v1/campaigns/{write['id']}/", {"kind": "write"}, format="json").status_code == 200
    fixed = admin.patch(f"/api/v1/campaigns/{write['id']}/", {"kind": "edit"}, format="json")
    assert fixed.status_code == 400 and "fixed" in fixed.json()["detail"]
    assert admin.patch(f"/api/v1/campaigns/{write['id']}/", {}, format="json").status_code == 400
    assert admin.patch(f"/api/v1/campaigns/{write['id']}/", {"verify_share": 0.5}, format="json").status_code == 400


def test_contributor_figures_per_language_own_rows_for_annotators_all_for_staff(admin):
    edit, verifier = with_verifier(admin, "Stats", "edit", overlap=2, verify_votes=1)
    prompt = catalog.prompt_create(content="Say something kind.", language="en")
    original = catalog.response_create(prompt=prompt, content="You are fine.")  # distances 5 and 8 below
    add_tasks(admin, edit["id"], responses=[original.pk])
    first, second, voter = people("s1", "s2", "s3")
    contribute(first, edit["id"], "You are fine!!!!!")
    contribute(second, edit["id"], "You are fine. Really.")
    vote([voter], verifier["id"], [True])
    mine = first.get("/api/v1/contributors/stats/").json()
    assert mine == [
        {"contributor": "s1", "language": "en", "accepted": 1, "rejected": 0, "pending": 0, "median_edit_distance": 5}
    ]
    every = admin.get("/api/v1/contributors/stats/", {"language": "en"}).json()
    assert [(r["contributor"], r["accepted"], r["pending"], r["median_edit_distance"]) for r in every] == [
        ("s1", 1, 0, 5),
        ("s2", 0, 1, 8),
    ]
    assert admin.get("/api/v1/contributors/stats/", {"language": "de"}).json() == []


def test_the_contributions_list_filters_and_pages_by_cursor_for_reviewers_only(admin):
    write = campaign(admin, "List", "write", overlap=3)
    prompts = [catalog.prompt_create(content=f"Prompt {i}", language="en").pk for i in range(2)]
    add_tasks(admin, write["id"], prompts=prompts)
    clients = people("l1", "l2", "l3")
    for i, client in enumerate(clients):
        for _ in range(2):
            contribute(client, write["id"], f"Answer by {i}")
    page = admin.get("/api/v1/contributions/", {"page_size": 4}).json()
    assert len(page["results"]) == 4 and page["next"]
    rest = admin.get(page["next"]).json()
    assert len(rest["results"]) == 2
    assert len(admin.get("/api/v1/contributions/", {"contributor": "l2"}).json()["results"]) == 2
    assert len(admin.get("/api/v1/contributions/", {"kind": "write", "status": "pending"}).json()["results"]) == 6
    assert admin.get("/api/v1/contributions/", {"kind": "dance"}).status_code == 400
    assert admin.get("/api/v1/contributions/?status=").status_code == 400
    assert admin.get("/api/v1/contributions/", {"campaign": write["id"], "language": "de"}).json()["results"] == []
    assert clients[0].get("/api/v1/contributions/").status_code == 403


def test_ranking_tasks_carry_their_kind_and_no_contribution_fields(admin):
    from tests.feedback.factories import campaign_with_tasks

    campaign_with_tasks(n_tasks=1)
    (ranker,) = people("rk")
    task = take(ranker, None)
    assert task["kind"] == "ranking" and task["target_language"] is None and task["contribution"] is None
    assert len(task["responses"]) == 3


def test_training_snapshots_take_accepted_contributions_only(admin, tmp_path):
    from webapp.training.data import DataSpec, snapshot_write

    write, write_verifier = with_verifier(admin, "Snap write", "write", overlap=2, verify_votes=1)
    edit, edit_verifier = with_verifier(admin, "Snap edit", "edit", verify_votes=1)
    prompt = catalog.prompt_create(content="How do plants eat?", language="en")
    original = catalog.response_create(prompt=prompt, content="They do not.")
    add_tasks(admin, write["id"], prompts=[prompt.pk])
    add_tasks(admin, edit["id"], responses=[original.pk])
    first, second, voter = people("p1", "p2", "p3")
    contribute(first, write["id"], "By photosynthesis: light, water and air make sugar.")
    contribute(second, write["id"], "Pending answer, not yet verified.")
    contribute(first, edit["id"], "They make their food from light by photosynthesis.")
    vote([voter], write_verifier["id"], [True])
    vote([voter], edit_verifier["id"], [True])

    def rows(kind: str) -> list[dict]:
        snapshot_write(DataSpec.from_params({"eval_fraction": 0}), kind, tmp_path / kind)
        lines = (tmp_path / kind / "data/train.jsonl").read_text().splitlines()
        return [json.loads(line) for line in lines]

    completions = {row["completion"][0]["content"] for row in rows("sft")}
    assert "By photosynthesis: light, water and air make sugar." in completions
    assert "They make their food from light by photosynthesis." in completions
    assert "Pending answer, not yet verified." not in completions
    pairs = [(row["chosen"][0]["content"], row["rejected"][0]["content"]) for row in rows("dpo")]
    assert pairs == [("They make their food from light by photosynthesis.", "They do not.")]


def test_a_translation_sends_its_check_to_the_index_queue_after_commit(
    admin, monkeypatch, django_capture_on_commit_callbacks
):
    from webapp.feedback.services import contributing

    sent = []
    monkeypatch.setattr(contributing, "send_task", lambda name, *, args, queue: sent.append((name, args, queue)))
    translate = campaign(admin, "Queued", "translate", languages=("en", "de"))
    add_tasks(admin, translate["id"], prompts=[catalog.prompt_create(content="Good night.", language="en").pk])
    (translator,) = people("q1", languages=("de",))
    with django_capture_on_commit_callbacks(execute=True):
        made = contribute(translator, translate["id"], "Gute Nacht.")
    assert sent == [("workers.tasks.indexing.check_translation", [made["id"]], "index")]


def test_verified_answers_feed_the_kto_export_accepted_desirable_rejected_undesirable_pending_nothing(admin):
    write, verifier = with_verifier(admin, "Write kto", "write")
    prompts = [catalog.prompt_create(content=f"Name a river of country {n}.", language="en") for n in range(3)]
    add_tasks(admin, write["id"], prompts=[p.pk for p in prompts])
    author, *voters = people("kto-author", "k1", "k2", "k3")
    answers = {}
    for text in ("The Danube.", "A fish.", "The Rhine."):
        answers[text] = contribute(author, write["id"], text)
    vote(voters, verifier["id"], [True, True, True])  # the first contribution: accepted
    vote(voters, verifier["id"], [False, False, False])  # the second: rejected; the third stays pending
    statuses = {text: Contribution.objects.get(pk=made["id"]).status for text, made in answers.items()}
    assert statuses == {"The Danube.": "accepted", "A fish.": "rejected", "The Rhine.": "pending"}

    rows = export("kto", "--kto-sources", "verify")
    assert {(r["completion"][0]["content"], r["label"], r["source"]) for r in rows} == {
        ("The Danube.", True, "verify"),
        ("A fish.", False, "verify"),
    }
    assert {r["prompt"][-1]["content"] for r in rows} == {"Name a river of country 0.", "Name a river of country 1."}
    assert export("kto", "--kto-sources", "verify", "--source", "annotation") == []


def test_a_verify_campaign_created_after_the_contributions_gets_a_task_for_each_pending_one(admin, monkeypatch):
    from webapp.feedback.models import CampaignJob
    from webapp.feedback.services import operations

    write, early = with_verifier(admin, "Backfilled", "write", languages=("en", "de"))
    prompts = [catalog.prompt_create(content=f"Question {n}", language="en") for n in range(4)]
    prompts.append(catalog.prompt_create(content="Frage vier", language="de"))
    add_tasks(admin, write["id"], prompts=[p.pk for p in prompts])
    (author,) = people("b-author")
    made = sorted((contribute(author, write["id"], f"Answer {n}") for n in range(5)), key=lambda m: m["language"])
    assert made[0]["language"] == "de"
    overridden = admin.post(
        f"/api/v1/contributions/{made[-1]['id']}/override/", {"status": "accepted", "reason": "fine"}, format="json"
    )
    assert overridden.status_code == 200
    catalog.task_delete(task=Task.objects.get(contributions__id=made[-2]["id"]))
    waiting = {m["id"] for m in made[:3]}  # pending, its task alive: the German one among them

    late = campaign(admin, "Backfilled late", "verify", ("en",), overlap=3, verifies=write["id"])
    tasks = Task.objects.filter(campaign_id=late["id"])
    assert sorted(t.contribution_id for t in tasks) == sorted(waiting) and {t.kind for t in tasks} == {"verify"}
    assert set(admin.get(f"/api/v1/campaigns/{late['id']}/").json()["languages"]) >= {"en", "de"}
    assert Task.objects.filter(campaign_id=early["id"]).count() == 5  # the early one's, made at submit, untouched
    shown = vote(people("b1"), late["id"], [True])
    assert shown[0]["contribution"]["id"] in waiting

    catalog.task_delete(task=tasks.get(contribution_id=made[1]["id"]))
    again = admin.post(f"/api/v1/campaigns/{late['id']}/jobs/", {"kind": "backfill"}, format="json")
    assert again.status_code == 202, again.content
    operations.operation_run(again.json()["id"])
    assert admin.get(f"/api/v1/campaign-jobs/{again.json()['id']}/").json()["result"] == {"tasks_created": 0}
    assert tasks.count() == 3 and tasks.alive().count() == 2  # idempotent; a deleted task is not made again
    refused = admin.post(f"/api/v1/campaigns/{write['id']}/jobs/", {"kind": "backfill"}, format="json")
    assert refused.status_code == 400 and "verify campaign" in refused.json()["detail"]

    monkeypatch.setattr(operations, "BATCH", 2)  # more than a batch: a job with progress, in batches
    large = campaign(admin, "Backfilled large", "verify", ("en",), overlap=3, verifies=write["id"])
    assert not Task.objects.filter(campaign_id=large["id"]).exists()
    job = CampaignJob.objects.get(campaign_id=large["id"], kind="backfill")
    operations.operation_run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.result, job.progress_done, job.progress_total) == ("succeeded", {"tasks_created": 3}, 3, 3)
    assert sorted(Task.objects.filter(campaign_id=large["id"]).values_list("contribution_id", flat=True)) == sorted(
        waiting
    )


def test_a_rejected_translation_leaves_the_translation_group_and_an_override_that_accepts_it_brings_it_back(admin):
    from webapp.retrieval.selectors import _described_pairs

    translate, verifier = with_verifier(admin, "Group", "translate", languages=("en", "de"))
    source = catalog.prompt_create(content="Where is the library?", language="en", group="g-library")
    add_tasks(admin, translate["id"], prompts=[source.pk])
    (translator,) = people("g-t", languages=("de",))
    made = contribute(translator, translate["id"], "Wo ist der Bahnhof?")
    created = made["created_prompt"]
    answers = campaign(admin, "Group answers", "write", languages=("de",))
    add_tasks(admin, answers["id"], prompts=[created])
    answer = contribute(people("g-w", languages=("de",))[0], answers["id"], "Am Markt.")
    assert Demonstration.objects.get(pk=answer["demonstration"]).group == "g-library"

    def grouped() -> set[int]:
        return {p["id"] for p in admin.get("/api/v1/prompts/", {"group": "g-library"}).json()["results"]}

    assert grouped() == {source.pk, created}
    vote(people("g1", "g2", "g3"), verifier["id"], [False, False, False])
    assert Contribution.objects.get(pk=made["id"]).status == "rejected"
    prompt = Prompt.objects.get(pk=created)
    assert (prompt.group, prompt.metadata["translation_group"], prompt.deleted_at) == ("", "g-library", None)
    assert grouped() == {source.pk}
    assert Demonstration.objects.get(pk=answer["demonstration"]).group == ""
    assert _described_pairs({(source.pk, created): 0.9}, True, 10) == []  # not suggested as a link either

    done = admin.post(
        f"/api/v1/contributions/{made['id']}/override/",
        {"status": "accepted", "reason": "a fair translation after all"},
        format="json",
    )
    assert done.status_code == 200, done.content
    assert Prompt.objects.get(pk=created).group == "g-library" and grouped() == {source.pk, created}
    assert Demonstration.objects.get(pk=answer["demonstration"]).group == "g-library"


def test_the_sweep_sends_again_the_checks_of_translations_left_unchecked_one_copy_per_period(
    admin, monkeypatch, settings, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from tests.e2e.worker_process import purge_broker
    from webapp.feedback.services import contributing
    from webapp.queue import app

    settings.TRANSLATION_CHECK_RESEND_SECONDS, settings.TRANSLATION_CHECK_RESEND_BATCH = 300, 2
    translate = campaign(admin, "Resend", "translate", languages=("en", "de"))
    add_tasks(
        admin, translate["id"], prompts=[catalog.prompt_create(content=f"Line {n}", language="en").pk for n in range(4)]
    )
    (translator,) = people("rs1", languages=("de",))
    with monkeypatch.context() as down:
        down.setattr(contributing, "send_task", lambda *args, **kwargs: False)  # the broker is down at commit
        with django_capture_on_commit_callbacks(execute=True):
            made = [contribute(translator, translate["id"], f"Zeile {n}")["id"] for n in range(4)]
    purge_broker()

    def queued() -> int:  # what the (filesystem) broker holds for the `index` queue
        with app.connection_for_write() as conn:
            return conn.default_channel.queue_declare("index", passive=True).message_count

    assert contributing.translation_checks_resend() == 0  # not overdue yet
    rows = Contribution.objects.filter(pk__in=made)
    rows.update(created_at=timezone.now() - timedelta(minutes=10))
    contributing.translation_checked(contribution_id=made[3], similarity=0.9, flagged=False)  # this one arrived
    assert contributing.translation_checks_resend() == 2  # the batch: the longest waiting first
    assert contributing.translation_checks_resend() == 1
    assert contributing.translation_checks_resend() == 0  # one copy per period
    assert queued() == 3 and set(rows.filter(check_sent_at__isnull=False).values_list("pk", flat=True)) == set(made[:3])

    rows.filter(pk=made[0]).update(check_sent_at=timezone.now() - timedelta(minutes=10))
    monkeypatch.setattr(contributing, "send_task", lambda *args, **kwargs: False)
    assert contributing.translation_checks_resend() == 0  # the broker is down again: the next period retries
    purge_broker()


def test_the_task_list_reads_verify_tasks_in_a_constant_number_of_queries(admin, staff):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    edit, verifier = with_verifier(admin, "Constant", "edit", overlap=1, verify_votes=1)
    prompt = catalog.prompt_create(content="Describe the sea.", language="en")
    originals = [catalog.response_create(prompt=prompt, content=f"The sea is wet, number {n}.") for n in range(20)]
    add_tasks(admin, edit["id"], responses=[r.pk for r in originals])
    (editor,) = people("c-editor")
    (annotator,) = people("c-voter")

    def queries(client, count: int) -> int:
        while Task.objects.filter(campaign_id=verifier["id"]).count() < count:
            contribute(editor, edit["id"], f"The sea is wet and deep and blue, {Task.objects.count()}.")
        with CaptureQueriesContext(connection) as captured:
            reply = client.get("/api/v1/tasks/", {"campaign": verifier["id"], "page_size": 50})
        assert reply.status_code == 200 and len(reply.json()["results"]) == count
        assert all(t["contribution"]["original_text"].startswith("The sea is wet") for t in reply.json()["results"])
        return len(captured)

    def next_queries(count: int) -> int:  # what /annotate/ asks for: the next verify task, leased
        (voter,) = people(f"c-next-{count}")
        with CaptureQueriesContext(connection) as captured:
            task = take(voter, verifier["id"])
        assert task["contribution"]["original_text"].startswith("The sea is wet")
        return len(captured)

    few = {"reviewer": queries(admin, 2), "annotator": queries(annotator, 2), "next": next_queries(2)}
    many = {"reviewer": queries(admin, 20), "annotator": queries(annotator, 20), "next": next_queries(20)}
    assert few == many
