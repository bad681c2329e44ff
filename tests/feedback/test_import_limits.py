"""Hostile input to the importer and the API: over-long lines, oversized metadata, deep nesting, and text
that is empty or equal once invisible characters are set aside. Each is refused with its line number (or a
400) and nothing is half-written; real text with meaningful joiners survives byte for byte."""

import json
import tracemalloc

import pytest
from django.core.management import CommandError, call_command

from tests.feedback.factories import campaign_with_tasks
from webapp.feedback.models import PreferenceRecord, Prompt, Response, Task
from webapp.feedback.services.importing import ImportRejected, feedback_import

pytestmark = pytest.mark.django_db

PAIR = {"prompt": "Hi", "chosen": "Hello! How can I help?", "rejected": "go away", "language": "en"}
KB = 1024


def write(path, lines: list) -> str:
    with path.open("wb") as handle:
        for line in lines:
            handle.write(line if isinstance(line, bytes) else json.dumps(line, ensure_ascii=False).encode())
            handle.write(b"\n")
    return str(path)


def rejected(path) -> list[tuple[int, str]]:
    with pytest.raises(ImportRejected) as info:
        feedback_import(path=path)
    assert PreferenceRecord.objects.count() == 0 and Task.objects.count() == 0
    return info.value.report.errors


def nested(depth: int) -> dict:
    """A pair whose unknown key nests `depth` - 1 lists inside the line's object (depth levels in all)."""
    return json.loads(json.dumps(PAIR)[:-1] + ', "deep": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}")


# --- Item 2: size limits ---------------------------------------------------------------------------


def test_metadata_over_the_limit_is_refused_with_its_line_the_limit_and_the_size(tmp_path):
    big = {**PAIR, "id": "big", "notes": "x" * (64 * KB)}  # an unknown key, kept in metadata
    together = {**PAIR, "id": "both", "a": "y" * (40 * KB), "metadata": {"b": "z" * (40 * KB)}}
    errors = rejected(write(tmp_path / "in.jsonl", [PAIR, big, together, {**PAIR, "id": "ok", "n": "x" * 60_000}]))
    assert [n for n, _ in errors] == [2, 3]
    size = len(json.dumps({"notes": big["notes"]}, separators=(",", ":")))
    assert f"is {size} bytes as JSON, over the limit of 65536 bytes" in errors[0][1]
    assert "IMPORT_METADATA_MAX_BYTES" in errors[1][1]


def test_a_line_over_the_limit_is_reported_and_the_next_lines_are_read_as_usual(tmp_path, settings):
    settings.IMPORT_LINE_MAX_BYTES = 2000
    at_limit = json.dumps({**PAIR, "id": "fits", "pad": ""}).encode()
    at_limit = at_limit.replace(b'"pad": ""', b'"pad": "' + b"x" * (2000 - len(at_limit)) + b'"')
    assert len(at_limit) == 2000
    long = json.dumps({**PAIR, "id": "long", "pad": "x" * 5000}).encode()
    path = tmp_path / "in.jsonl"
    path.write_bytes(at_limit + b"\r\n" + long + b"\r\n" + json.dumps(PAIR).encode() + b"\n" + long)
    with pytest.raises(ImportRejected) as info:
        feedback_import(path=str(path))
    assert info.value.report.errors == [
        (2, f"the line is {len(long)} bytes long, over the limit of 2000 bytes (IMPORT_LINE_MAX_BYTES)"),
        (4, f"the line is {len(long)} bytes long, over the limit of 2000 bytes (IMPORT_LINE_MAX_BYTES)"),
    ]
    path.write_bytes(at_limit + b"\r\n" + json.dumps(PAIR).encode())
    assert feedback_import(path=str(path)).pairs_created == 2


def test_a_huge_line_is_never_read_into_memory_whole(tmp_path, settings):
    settings.IMPORT_LINE_MAX_BYTES = 1024 * KB
    path = tmp_path / "huge.jsonl"
    with path.open("wb") as handle:
        handle.write(b'{"prompt": "Hi", "chosen": "a", "rejected": "b", "language": "en", "x": "')
        for _ in range(40):
            handle.write(b"x" * (1024 * KB))
        handle.write(b'"}\n')
    tracemalloc.start()
    try:
        with pytest.raises(ImportRejected) as info:
            feedback_import(path=str(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "over the limit of 1048576 bytes" in info.value.report.errors[0][1]
    assert peak < 8 * 1024 * KB, f"peak {peak} bytes for a 40 MB line"


def test_the_api_refuses_metadata_over_the_limit(api, staff):
    client = api(staff)
    reply = client.post(
        "/api/v1/prompts/", {"content": "Hi", "language": "en", "metadata": {"x": "y" * 70_000}}, format="json"
    )
    assert reply.status_code == 400 and "over the limit of 65536 bytes" in reply.json()["detail"]
    prompt = client.post("/api/v1/prompts/", {"content": "Hi", "language": "en"}, format="json").json()
    reply = client.post(
        "/api/v1/responses/", {"prompt": prompt["id"], "content": "Hey", "metadata": {"x": "y" * 70_000}}, format="json"
    )
    assert reply.status_code == 400 and "IMPORT_METADATA_MAX_BYTES" in reply.json()["detail"]
    body = {"prompt": "Hi", "response_a": "a", "response_b": "b", "outcome": "a", "language": "en"}
    reply = client.post("/api/v1/preferences/", body | {"metadata": {"x": "y" * 70_000}}, format="json")
    assert reply.status_code == 400 and "65536" in reply.json()["detail"]
    assert Prompt.objects.count() == 1 and Response.objects.count() == 0 and PreferenceRecord.objects.count() == 0


# --- Item 3: nesting depth -------------------------------------------------------------------------


def test_deep_nesting_ends_the_command_with_the_line_number_and_the_limit(tmp_path):
    path = tmp_path / "deep.jsonl"
    path.write_text(json.dumps(PAIR) + "\n" + "[" * 5000 + "]" * 5000 + "\n" + '{"a": ' * 5000 + "1" + "}" * 5000)
    with pytest.raises(CommandError) as info:
        call_command("import_feedback", str(path))
    message = str(info.value)
    assert "2 invalid line(s)" in message
    assert "line 2: the JSON nests arrays and objects more than 64 levels deep (the limit is 64)" in message
    assert "line 3: the JSON nests" in message


def test_sixty_four_levels_are_accepted_and_brackets_inside_strings_do_not_count(tmp_path):
    errors = rejected(write(tmp_path / "in.jsonl", [nested(64), nested(65), {**PAIR, "chosen": "[{" * 200}]))
    assert [n for n, _ in errors] == [2]
    report = feedback_import(path=write(tmp_path / "ok.jsonl", [nested(64), {**PAIR, "chosen": "[{" * 200}]))
    assert report.pairs_created == 2


@pytest.mark.parametrize("url", ["/api/v1/prompts/", "/api/v1/transfers/export/", "/api/v1/preferences/"])
def test_a_deeply_nested_api_body_gets_a_400_not_a_500(api, staff, url):
    body = '{"content": "Hi", "language": "en", "metadata": {"x": ' + "[" * 5000 + "]" * 5000 + "}}"
    reply = api(staff).post(url, body, content_type="application/json")
    assert reply.status_code == 400
    assert "more than 64 levels deep" in reply.json()["detail"]


def test_the_depth_check_reads_the_body_in_its_declared_charset(api, staff):
    body = '{"content": "Hi", "language": "en", "metadata": {"x": ' + "[" * 5000 + "]" * 5000 + "}}"
    reply = api(staff).post("/api/v1/prompts/", body.encode("utf-16"), content_type="application/json; charset=utf-16")
    assert reply.status_code == 400 and "more than 64 levels deep" in reply.json()["detail"]


def test_an_api_body_nested_a_little_too_deep_for_storage_gets_a_400(api, staff):
    """100 levels parse, but are refused like an import line would be."""
    body = {"content": "Hi", "language": "en", "metadata": {"x": json.loads("[" * 100 + "]" * 100)}}
    reply = api(staff).post("/api/v1/prompts/", body, format="json")
    assert reply.status_code == 400 and "64 levels" in reply.json()["detail"]
    assert Prompt.objects.count() == 0


# --- Item 4: invisible text ------------------------------------------------------------------------

INVISIBLE = [
    ({**PAIR, "prompt": "\u200b"}, "'prompt' is empty"),
    ({**PAIR, "prompt": " \u2060\ufeff\u00ad "}, "'prompt' is empty"),
    ({**PAIR, "chosen": [{"role": "assistant", "content": "\u200c\u200d"}]}, "'chosen[0].content' is empty"),
    ({**PAIR, "chosen": "same\u200b", "rejected": "same"}, "'chosen' and 'rejected' are the same text"),
    ({**PAIR, "chosen": "caf\u00e9", "rejected": "cafe\u0301"}, "are the same text"),  # NFC
    ({**PAIR, "chosen": "same\u200c", "rejected": "\u200dsame"}, "are the same text"),  # joiners joining nothing
    ({**PAIR, "chosen": "می\u200cروی", "rejected": "میروی"}, "are the same text"),  # compared with Cf removed
    (
        {
            **PAIR,
            "chosen": [{"role": "assistant", "content": "Ja\u200b"}],
            "rejected": [{"role": "assistant", "content": "Ja"}],
        },
        "are the same text",
    ),
    (
        {"id": "r", "prompt": "p", "language": "en", "responses": [{"text": "a"}, {"text": "\u200ba"}]},
        "'responses[1].text' repeats an earlier response",
    ),
    (
        {
            "id": "r",
            "prompt": "p",
            "language": "en",
            "responses": [{"text": "a"}, {"text": "b"}],
            "rankings": [{"annotator": "\u200b", "ranking": [[0], [1]]}],
        },
        "'rankings[0].annotator' must be a non-empty name",
    ),
    (
        {
            "id": "r",
            "prompt": "p",
            "language": "en",
            "responses": [{"text": "a"}, {"text": "b"}],
            "rankings": [{"annotator": "li", "ranking": [[0], [1]]}, {"annotator": "li\u200b", "ranking": [[1], [0]]}],
        },
        "ranks this task twice",
    ),
]


@pytest.mark.parametrize("line,reason", INVISIBLE, ids=[r for _, r in INVISIBLE])
def test_text_that_is_empty_or_equal_once_invisible_characters_are_dropped_is_refused(tmp_path, line, reason):
    errors = rejected(write(tmp_path / "in.jsonl", [PAIR, line]))
    assert [n for n, _ in errors] == [2] and reason in errors[0][1]


def test_the_api_refuses_invisible_only_text_and_invisibly_different_pairs(api, staff):
    client = api(staff)
    reply = client.post("/api/v1/prompts/", {"content": "\u200b\u200b", "language": "en"}, format="json")
    assert reply.status_code == 400 and "'content' is empty" in reply.json()["detail"]
    prompt = client.post("/api/v1/prompts/", {"content": "Hi", "language": "en"}, format="json").json()
    reply = client.post("/api/v1/responses/", {"prompt": prompt["id"], "content": "\ufeff"}, format="json")
    assert reply.status_code == 400 and "empty" in reply.json()["detail"]
    body = {"prompt": "Hi", "response_a": "same\u200b", "response_b": "same", "outcome": "a", "language": "en"}
    reply = client.post("/api/v1/preferences/", body, format="json")
    assert reply.status_code == 400 and "are the same text" in reply.json()["detail"]
    assert PreferenceRecord.objects.count() == 0


def test_a_task_cannot_compare_two_responses_that_read_the_same(api, staff):
    campaign, _ = campaign_with_tasks(n_tasks=0)
    client = api(staff)
    prompt = client.post("/api/v1/prompts/", {"content": "Hi", "language": "en"}, format="json").json()["id"]
    ids = [
        client.post("/api/v1/responses/", {"prompt": prompt, "content": text}, format="json").json()["id"]
        for text in ("Hallo", "Hallo\u200b", "Tschüss")
    ]
    reply = client.post("/api/v1/tasks/", {"campaign": campaign.pk, "prompt": prompt, "responses": ids}, format="json")
    assert reply.status_code == 400 and f"Responses {ids[0]} and {ids[1]} read the same" in reply.json()["detail"]
    body = {"campaign": campaign.pk, "prompt": prompt, "responses": [ids[0], ids[2]]}
    assert client.post("/api/v1/tasks/", body, format="json").status_code == 201


def test_persian_text_with_zwnj_round_trips_byte_for_byte(tmp_path):
    """ZWNJ (U+200C) is part of Persian spelling and ZWJ (U+200D) of emoji: they are ignored only when
    texts are compared, and storage and export keep every one of them."""
    pair = {"prompt": "می\u200cخواهم بروم", "chosen": "می\u200cروی؟", "rejected": "نمی\u200cروم.", "language": "fa"}
    ranking = {
        "id": "fa-1",
        "prompt": "نامه\u200cای بنویس",
        "language": "fa",
        "responses": [{"text": "نامه\u200cها"}, {"text": "نامه\u200cای کوتاه"}, {"text": "👩\u200d💻"}],
        "ranking": [[0], [2], [1]],
    }
    source = write(tmp_path / "in.jsonl", [pair, ranking])
    assert feedback_import(path=source).pairs_created == 1
    for fmt in ("pairs", "rankings"):
        call_command("export_feedback", "--format", fmt, "--out", str(tmp_path / f"{fmt}.jsonl"))
    rows = [json.loads(line) for line in (tmp_path / "pairs.jsonl").read_text(encoding="utf-8").splitlines()]
    [back] = [row for row in rows if row["prompt"] == pair["prompt"]]  # the others come from the ranking
    for key in ("prompt", "chosen", "rejected"):
        assert back[key].encode("utf-8") == pair[key].encode("utf-8"), key
    task = json.loads((tmp_path / "rankings.jsonl").read_text(encoding="utf-8"))
    assert task["prompt"].encode("utf-8") == ranking["prompt"].encode("utf-8")
    assert [r["text"].encode("utf-8") for r in task["responses"]] == [
        r["text"].encode("utf-8") for r in ranking["responses"]
    ]
    path = write(tmp_path / "again.jsonl", [back])
    assert feedback_import(path=path).pairs_unchanged == 1  # the same hash: nothing new
