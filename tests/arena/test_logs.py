"""Battle logs in the Chatbot Arena conversation format: `import_feedback --format arena` stores battles,
votes, pairs (one-turn battles) and external variants; the public board counts them only when asked; a
re-import changes nothing; bad lines are named and nothing is stored; `export_feedback --format arena`
writes our own battles so that importing them into an empty store gives the same ratings."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from tests.arena.conftest import finished_battle, make_variant
from tests.feedback.formats_fixtures import SUFFIXES, write_records
from webapp.arena import selectors, services
from webapp.arena.logs import OVER_DAILY_CAP
from webapp.arena.models import Battle, BattleMode, ExternalVariant, Vote, VoteStyle
from webapp.errors import ApplicationError
from webapp.feedback.models import PreferenceRecord
from webapp.feedback.services.importing import ImportRejected, feedback_import
from webapp.feedback.services.transfers import transfer_run
from webapp.modelstore.models import ModelVariant, VariantStatus
from webapp.modelstore.services import variant_set_enrolled

# also run against PostgreSQL by .ci/run (bulk writes, the temporary table of seen ids, JSON key lookups)
pytestmark = [pytest.mark.django_db, pytest.mark.services]
URL = "/api/v1/arena/leaderboard/"


def turn(question: str, answer: str) -> list[dict]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def battle(qid: str, model_a: str, model_b: str, winner: str, **more) -> dict:
    record = {
        "question_id": qid,
        "model_a": model_a,
        "model_b": model_b,
        "winner": winner,
        "judge": "arena_user_1",
        "conversation_a": turn(f"Question {qid}?", f"{model_a} answers {qid}."),
        "conversation_b": turn(f"Question {qid}?", f"{model_b} answers {qid}."),
        "turn": 1,
        "anony": True,
        "language": "English",
        "tstamp": 1682351591.5,
        "openai_moderation": {"flagged": False},
    }
    return record | more


def published_log() -> list[dict]:
    multi_a = turn("Name a colour.", "Red.") + turn("Another?", "Blue.")
    multi_b = turn("Name a colour.", "Green.") + turn("Another?", "Yellow.")
    return [
        battle("q1", "vicuna-13b", "koala-13b", "model_a", judge="arena_user_973"),
        battle("q2", "koala-13b", "gpt-3.5-turbo", "tie (bothbad)", language="de"),
        battle("q3", "vicuna-13b", "gpt-3.5-turbo", "model_b", anony=False),
        battle("q4", "gpt-3.5-turbo", "vicuna-13b", "tie", turn=2, conversation_a=multi_a, conversation_b=multi_b),
        battle("q5", "koala-13b", "vicuna-13b", "model_b", language="German"),
    ]


def test_an_unknown_language_as_fastchat_writes_it_takes_the_language_option(tmp_path):
    records = [battle("q1", "a-model", "b-model", "tie", language="unknown"), battle("q2", "a-model", "b-model", "tie")]
    records[1].pop("language")
    feedback_import(path=write_records(tmp_path, "log", records, ".jsonl"), format="arena", language="fr")
    assert set(Vote.objects.values_list("language_id", flat=True)) == {"fr"}


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_a_published_log_becomes_battles_votes_pairs_and_external_models(tmp_path, suffix):
    path = write_records(tmp_path, "arena-log-2023", published_log(), suffix)
    report = feedback_import(path=path, format="arena", origin=path.name)

    assert (report.lines, report.invalid, report.created) == (5, 0, {"battles": 5, "battle pairs": 4})
    votes = {v.battle.external_id: v for v in Vote.objects.select_related("battle", "preference", "variant_a")}
    assert {qid: v.outcome for qid, v in votes.items()} == {
        "q1": "a",
        "q2": "both_bad",
        "q3": "b",
        "q4": "tie",
        "q5": "b",
    }
    assert {qid: v.language_id for qid, v in votes.items()} == {
        "q1": "en",
        "q2": "de",
        "q3": "en",
        "q4": "en",
        "q5": "de",
    }
    assert {v.origin for v in votes.values()} == {path.name}
    # the non-anonymous battle is kept, with its pair, but left out of ratings like a Side by side battle
    assert votes["q3"].identity_revealed and votes["q3"].battle.mode == BattleMode.NAMED
    assert votes["q3"].preference is not None
    # the multi-turn battle is a vote without a pair
    assert votes["q4"].preference is None and votes["q4"].battle.turn == 2
    assert votes["q4"].battle.conversation_a[-1] == {"role": "assistant", "content": "Blue."}
    pair = votes["q1"].preference
    assert (pair.source, pair.origin, pair.prompt, pair.response_a, pair.model_a) == (
        "arena",
        path.name,
        "Question q1?",
        "vicuna-13b answers q1.",
        "vicuna-13b",
    )
    assert votes["q1"].client_hash == services.client_hash_for("arena_user_973")
    assert votes["q1"].battle.metadata["log"] == {"openai_moderation": {"flagged": False}}
    assert votes["q1"].battle.metadata["tstamp"] == 1682351591.5


def test_the_command_names_the_origin_after_the_file_and_an_unnamed_import_is_arena_log(tmp_path, capsys):
    call_command(
        "import_feedback",
        str(write_records(tmp_path, "battles-may", published_log()[:2], ".jsonl")),
        "--format",
        "arena",
    )
    assert "battles: 2 imported; 0 already present" in capsys.readouterr().out
    feedback_import(path=write_records(tmp_path, "x", published_log()[2:], ".jsonl"), format="arena")
    assert dict(Vote.objects.values_list("battle__external_id", "origin")) == {
        "q1": "battles-may.jsonl",
        "q2": "battles-may.jsonl",
        "q3": "arena-log",
        "q4": "arena-log",
        "q5": "arena-log",
    }
    assert set(PreferenceRecord.objects.values_list("origin", flat=True)) == {"battles-may.jsonl", "arena-log"}


def test_unknown_models_are_external_never_served_nor_sampled(tmp_path):
    feedback_import(path=write_records(tmp_path, "log", published_log(), ".jsonl"), format="arena")

    external = ModelVariant.objects.filter(external__isnull=False)
    assert sorted(external.values_list("name", flat=True)) == ["gpt-3.5-turbo", "koala-13b", "vicuna-13b"]
    assert set(external.values_list("status", flat=True)) == {VariantStatus.FAILED}
    with pytest.raises(ApplicationError):
        variant_set_enrolled(variant=external.get(name="koala-13b"), enrolled=True)
    external.update(enrolled_in_arena=True)  # even forced into the arena, a live battle never draws them
    assert not selectors.enrolled_variants().exists()
    assert "imported battle log" in selectors.lineage(external.get(name="koala-13b"))


def test_the_public_board_counts_imported_votes_only_when_asked(client, tmp_path, variants):
    base, one, _two = variants
    services.vote_cast(token=str(finished_battle(one, base, client="c" * 64).token), outcome="a", client_hash="c" * 64)
    feedback_import(path=write_records(tmp_path, "log", published_log(), ".jsonl"), format="arena")

    local = client.get(URL).json()["ratings"]
    assert {row["variant"] for row in local} == {"base-model", "adapted-one"}
    imported = {row["variant"]: row["votes"] for row in client.get(URL, {"origin": "imported"}).json()["ratings"]}
    # q3 (not anonymous) is left out; q4 (multi-turn) counts
    assert imported == {"vicuna-13b": 3, "koala-13b": 3, "gpt-3.5-turbo": 2}
    both = {row["variant"] for row in client.get(URL, {"origin": "all"}).json()["ratings"]}
    assert both == {"base-model", "adapted-one", "vicuna-13b", "koala-13b", "gpt-3.5-turbo"}
    german = {row["variant"] for row in client.get(URL, {"origin": "imported", "language": "de"}).json()["ratings"]}
    assert german == {"koala-13b", "gpt-3.5-turbo", "vicuna-13b"}
    refused = client.get(URL, {"origin": "theirs"})
    assert refused.status_code == 400 and "origin" in refused.json()


def test_a_reimport_changes_nothing_and_other_content_under_a_stored_id_is_refused(tmp_path):
    path = write_records(tmp_path, "log", published_log(), ".jsonl")
    feedback_import(path=path, format="arena")
    again = feedback_import(path=write_records(tmp_path, "renamed", published_log(), ".jsonl.gz"), format="arena")
    assert (again.created, again.unchanged) == ({"battles": 0}, {"battles": 5})
    assert (Battle.objects.count(), Vote.objects.count(), PreferenceRecord.objects.count()) == (5, 5, 4)

    changed = [battle("q1", "vicuna-13b", "koala-13b", "model_b")]
    with pytest.raises(ImportRejected) as rejected:
        feedback_import(path=write_records(tmp_path, "changed", changed, ".jsonl"), format="arena")
    assert rejected.value.report.errors == [(1, "question_id 'q1' is already stored with different content")]


def test_a_question_id_twice_in_one_file_with_other_content_names_both_lines(tmp_path):
    records = [battle("q1", "a-model", "b-model", "model_a"), battle("q1", "a-model", "b-model", "tie")]
    with pytest.raises(ImportRejected) as rejected:
        feedback_import(path=write_records(tmp_path, "log", records, ".jsonl"), format="arena")
    assert rejected.value.report.errors == [(2, "question_id 'q1' was used on line 1 with different content")]
    assert not Battle.objects.exists() and not ModelVariant.objects.exists()


def test_a_model_named_like_one_of_ours_is_an_error_on_that_line_and_nothing_is_stored(tmp_path):
    make_variant("koala-13b", kind="base")
    records = [battle("q1", "vicuna-13b", "alpaca-13b", "model_a"), battle("q2", "vicuna-13b", "koala-13b", "tie")]
    path = write_records(tmp_path, "log", records, ".jsonl")
    with pytest.raises(CommandError) as failed:
        call_command("import_feedback", str(path), "--format", "arena")
    assert "line 2: 'koala-13b' is the name of one of this app's own models" in str(failed.value)
    assert not Battle.objects.exists() and not ExternalVariant.objects.exists()
    assert list(ModelVariant.objects.values_list("name", flat=True)) == ["koala-13b"]


@pytest.mark.parametrize(
    "bad, error",
    [
        ({"winner": "model_c"}, "'winner' must be one of 'model_a', 'model_b', 'tie', 'tie (bothbad)'"),
        ({"conversation_b": "text"}, "'conversation_b' must be a list of role/content messages"),
        ({"model_b": "vicuna-13b"}, "model_a and model_b must be two different models"),
        ({"turn": 3}, "'turn' is 3 but the conversations have 1 user messages"),
        ({"language": "Qwertyish"}, "'language': 'Qwertyish' is not a language this importer knows"),
        ({"judge": None}, "'judge' is missing or not a string"),
    ],
)
def test_a_malformed_line_is_named_by_number_and_nothing_is_stored(tmp_path, bad, error):
    records = published_log()
    records[2] = records[2] | bad
    with pytest.raises(ImportRejected) as rejected:
        feedback_import(path=write_records(tmp_path, "log", records, ".jsonl"), format="arena")
    [(line, message)] = rejected.value.report.errors
    assert line == 3 and message.startswith(error)
    assert not any(rejected.value.report.created.values())
    assert not Battle.objects.exists() and not PreferenceRecord.objects.exists() and not ModelVariant.objects.exists()


def test_an_excluded_voters_log_votes_are_excluded_like_a_visitors(tmp_path):
    services.client_exclude(client_hash=services.client_hash_for("arena_user_973"), reason="spam")
    feedback_import(path=write_records(tmp_path, "log", published_log(), ".jsonl"), format="arena")
    vote = Vote.objects.select_related("preference").get(battle__external_id="q1")
    assert vote.excluded and vote.preference.deleted_at is not None
    assert not selectors.rating_votes(origin=selectors.IMPORTED).filter(pk=vote.pk).exists()
    assert Vote.objects.filter(excluded=False).count() == 4


def _board(origin: str) -> list[tuple]:
    selectors._cache.clear()
    return [
        (row["variant"], row["rating"], row["votes"], row["sandwich"]["low"], row["sandwich"]["high"])
        for row in selectors.leaderboard(origin=origin)
    ]


def test_an_exported_board_imported_into_an_empty_store_gives_the_same_ratings(tmp_path, variants):
    base, one, two = variants
    results = [(one, base, "a"), (two, base, "a"), (one, two, "b"), (base, one, "tie"), (two, one, "both_bad")]
    for i, (a, b, outcome) in enumerate(results * 3):
        client = f"{i % 4:x}" * 64
        token = str(finished_battle(a, b, client=client).token)
        services.vote_cast(token=token, outcome=outcome, client_hash=client)
    named = finished_battle(one, two, client="e" * 64, mode="named")
    services.vote_cast(token=str(named.token), outcome="a", client_hash="e" * 64)
    out = tmp_path / "board.jsonl"
    with override_settings(ARENA_ANCHOR="base-model"):
        before = _board(selectors.LOCAL)
        call_command("export_feedback", "--format", "arena", "--out", str(out))
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        assert len(rows) == 16 and sum(not row["anony"] for row in rows) == 1
        assert {row["winner"] for row in rows} == {"model_a", "model_b", "tie", "tie (bothbad)"}
        # an empty store: nothing of the arena, none of its models
        VoteStyle.objects.all().delete()
        votes = Vote.objects.all()
        records = list(votes.values_list("preference_id", flat=True))
        votes.delete()
        PreferenceRecord.objects.filter(pk__in=records).delete()
        Battle.objects.all().delete()
        ModelVariant.objects.filter(parent__isnull=False).delete()
        ModelVariant.objects.all().delete()
        report = feedback_import(path=out, format="arena")
        after = _board(selectors.IMPORTED)
    assert report.created == {"battles": 16, "battle pairs": 16}
    assert len(before) == 3 and after == before


def test_imported_votes_are_measured_by_arena_style_and_count_in_the_style_controlled_board(tmp_path, client):
    feedback_import(path=write_records(tmp_path, "log", published_log(), ".jsonl"), format="arena")
    params = {"origin": "imported", "style": "control"}
    assert client.get(URL, params).json()["style"]["unmeasured_votes"] == 4
    call_command("arena_style")
    selectors._cache.clear()
    body = client.get(URL, params).json()
    assert body["style"]["unmeasured_votes"] == 0 and len(body["ratings"]) == 3


def test_an_imported_log_exports_again_with_its_own_ids_and_keys(tmp_path):
    path = write_records(tmp_path, "log", published_log(), ".jsonl")
    feedback_import(path=path, format="arena", origin="may-log")
    out = tmp_path / "again.jsonl"
    call_command("export_feedback", "--format", "arena", "--origin", "may-log", "--out", str(out))
    rows = {row["question_id"]: row for row in map(json.loads, out.read_text().splitlines())}
    assert sorted(rows) == ["q1", "q2", "q3", "q4", "q5"]
    original = {record["question_id"]: record for record in published_log()}
    for qid in ("q1", "q4"):
        assert {key: rows[qid][key] for key in ("conversation_a", "winner", "turn", "anony", "tstamp")} == {
            key: original[qid][key] for key in ("conversation_a", "winner", "turn", "anony", "tstamp")
        }
    assert rows["q1"]["openai_moderation"] == {"flagged": False} and rows["q2"]["winner"] == "tie (bothbad)"
    assert rows["q2"]["language"] == "de"
    empty = tmp_path / "local.jsonl"
    call_command("export_feedback", "--format", "arena", "--out", str(empty))
    assert empty.read_text() == ""  # the arena's own battles only, unless an origin is named


@override_settings(ARENA_DAILY_VOTE_CAP=2)
def test_a_voters_votes_over_the_daily_cap_are_skipped_as_the_arena_would_refuse_them(tmp_path):
    day = 1682294400  # 2023-04-24T00:00:00Z
    records = [battle(f"q{i}", "a-model", "b-model", "tie", tstamp=day + 60 * i) for i in range(3)]
    records.append(battle("q3", "a-model", "b-model", "tie", tstamp=day + 86400))  # the next day
    records.append(battle("q4", "a-model", "b-model", "tie", judge="another-voter", tstamp=day + 60))
    path = write_records(tmp_path, "log", records, ".jsonl")
    report = feedback_import(path=path, format="arena")
    assert report.created["battles"] == 4 and report.skipped == {OVER_DAILY_CAP: 1}
    assert sorted(Battle.objects.values_list("external_id", flat=True)) == ["q0", "q1", "q3", "q4"]
    # the stored votes of that day count too: importing again keeps refusing q2
    again = feedback_import(path=path, format="arena")
    assert (again.created, again.unchanged, again.skipped) == ({"battles": 0}, {"battles": 4}, {OVER_DAILY_CAP: 1})


@pytest.mark.django_db(transaction=True)
def test_a_log_uploaded_through_the_import_api_is_imported_by_a_worker_as_arena_log(api, staff, tmp_path):
    client = api(staff)
    with write_records(tmp_path, "log", published_log(), ".parquet").open("rb") as handle:
        reply = client.post("/api/v1/transfers/import/", {"file": handle, "format": "arena"}, format="multipart")
    assert reply.status_code == 202, reply.content
    transfer_run(reply.json()["id"])
    job = client.get(f"/api/v1/transfers/{reply.json()['id']}/").json()
    assert job["status"] == "succeeded", job
    assert job["result"]["created"] == {"battles": 5, "battle pairs": 4}
    assert set(Vote.objects.values_list("origin", flat=True)) == {"arena-log"}  # an upload's stored name means nothing
