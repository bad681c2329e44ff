"""The bulk import path (COPY on PostgreSQL, executemany on SQLite) and the export's text fast path store and
write exactly what the ORM did before; a bad last line of a long file refuses it all; memory stays flat.

Marked `services`: CI runs them again on PostgreSQL, where the COPY path is taken."""

import json
import tracemalloc

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import TextField
from django.db.models.functions import Cast

from webapp.feedback.content import content_hash, plain_text
from webapp.feedback.formats.exporting import ExportSpec, export_rows, feedback_export
from webapp.feedback.formats.parsing import DEFAULT_CAMPAIGN, PairLine, parse_line
from webapp.feedback.models import (
    Annotation,
    AnnotatorProfile,
    Campaign,
    PreferenceRecord,
    Prompt,
    Response,
    Task,
    TaskResponse,
)
from webapp.feedback.services import importing
from webapp.feedback.services.importing import ImportRejected, feedback_import
from webapp.feedback.services.languages import language_get_or_create
from webapp.feedback.sources import ORIGIN_PAIRS, ORIGIN_RANKINGS, Source
from webapp.permissions import ANNOTATOR, role_group

pytestmark = [pytest.mark.django_db, pytest.mark.services]

TEXTS = {
    "en": ["Explain photosynthesis.", "Plants turn light into sugar.", "It is magic.", "No idea."],
    "ar": ["اشرح البناء الضوئي.", "تحول النباتات الضوء إلى سكر.", "إنه سحر.", "لا أعرف."],
    "zh-Hans": ["解释光合作用。", "植物把光变成糖。", "这是魔法。", "不知道。"],
    "de": ["Erkläre Photosynthese.", "Pflanzen machen aus Licht Zucker.", "Das ist Magie.", "Keine Ahnung."],
    "he": ["הסבר פוטוסינתזה.", "צמחים הופכים אור לסוכר.", "זה קסם.", "אין לי מושג."],
}


def mixed_lines(count: int) -> list[dict]:
    """Rankings (ties, flags, rationales, messages prompts, models, response ids) and pairs (string and
    messages forms, groups, sources, agreement, metadata and unknown keys) in five languages."""
    lines: list[dict] = []
    codes = list(TEXTS)
    for i in range(count):
        code = codes[i % len(codes)]
        prompt, *answers = TEXTS[code]
        n = 2 + (i // 2) % 2
        if i % 2:
            lines.append(
                {
                    "id": f"rank-{i}",
                    "prompt": [{"role": "user", "content": f"{prompt} {i}"}] if i % 3 == 0 else f"{prompt} {i}",
                    "language": code,
                    "group": f"g{i % 4}" if i % 5 else "",
                    "campaign": "Bulk" if i % 4 == 1 else "",
                    "responses": [
                        {"text": f"{a} {i}", "model": f"m{k}", **({"id": f"r{i}-{k}"} if k == 0 else {})}
                        for k, a in enumerate(answers[:n])
                    ],
                    "rankings": [
                        {
                            "annotator": f"ann-{(i + j) % 7}",
                            "ranking": [list(range(n))] if j else [[k] for k in reversed(range(n))],
                        }
                        | ({"flags": ["all_bad"], "rationale": "ضعيف"} if j == 2 else {})
                        for j in range(1 + i % 3)
                    ],
                    "topic": "science",
                }
            )
        else:
            lines.append(
                {
                    "prompt": f"{prompt} {i}",
                    "chosen": answers[0] if i % 4 else [{"role": "assistant", "content": answers[0]}],
                    "rejected": f"{answers[1]} {i}",
                    "language": code,
                    **({"id": f"pair-{i}", "group": f"g{i % 3}", "agreement": 0.75} if i % 3 else {}),
                    **({"source": "hh-rlhf", "metadata": {"k": [1, "二"]}, "extra": True} if i % 5 == 0 else {}),
                }
            )
    lines.append(dict(lines[1]))  # the same ranking again: unchanged
    lines.append(dict(lines[0]))  # the same pair again: unchanged
    return lines


def write(path, lines: list[dict], tail: bytes = b"") -> str:
    with path.open("wb") as handle:
        for line in lines:
            handle.write(json.dumps(line, ensure_ascii=False).encode() + b"\n")
        handle.write(tail)
    return str(path)


def orm_import(path: str) -> None:
    """What feedback_import stored before the bulk path, written with the ORM as it was (the oracle)."""
    seen: set[str] = set()
    with open(path, "rb") as handle:
        for line_no, raw in enumerate(handle, 1):
            r = parse_line(raw.rstrip(b"\n"), line_no)
            key = ("pair:" if isinstance(r, PairLine) else "task:") + r.id
            if key in seen:
                continue
            seen.add(key)
            language = language_get_or_create(r.language)
            if isinstance(r, PairLine):
                PreferenceRecord.objects.create(
                    external_id=r.id,
                    content_hash=r.content_hash,
                    prompt=r.prompt,
                    response_a=r.chosen,
                    response_b=r.rejected,
                    prompt_text=plain_text(r.prompt),
                    outcome="a",
                    source=Source.IMPORT,
                    origin=r.source or ORIGIN_PAIRS,
                    language=language,
                    group=r.group,
                    prompt_external_id=r.prompt_id,
                    agreement=r.agreement,
                    metadata=r.metadata,
                )
                continue
            campaign, _created = Campaign.objects.get_or_create(
                name=r.campaign or DEFAULT_CAMPAIGN, defaults={"guidelines": "Imported tasks.", "overlap": 1}
            )
            campaign.languages.add(language)
            prompt = Prompt.objects.create(
                content=r.prompt,
                text=plain_text(r.prompt),
                content_hash=content_hash(r.prompt),
                language=language,
                group=r.group,
                source="import",
                metadata=r.metadata,
            )
            task = Task.objects.create(
                campaign=campaign,
                prompt=prompt,
                language=language,
                external_id=r.id,
                import_hash=r.content_hash,
                annotation_count=len(r.rankings),
            )
            for position, item in enumerate(r.responses):
                response = Response.objects.create(
                    prompt=prompt,
                    content=item["text"],
                    text=item["text"],
                    content_hash=content_hash(item["text"]),
                    model_name=item["model"],
                    metadata={"id": item["id"]} if item["id"] else {},
                )
                TaskResponse.objects.create(task=task, response=response, position=position)
            for item in r.rankings:
                user, created = User.objects.get_or_create(
                    username=f"import:{item['annotator']}", defaults={"is_active": False}
                )
                if created:
                    user.set_unusable_password()
                    user.save(update_fields=["password"])
                    user.groups.add(role_group(ANNOTATOR))
                profile, _created = AnnotatorProfile.objects.get_or_create(user=user, defaults={"is_external": True})
                profile.languages.add(language)
                Annotation.objects.create(
                    task=task,
                    annotator=user,
                    ranking=item["ranking"],
                    flags=item["flags"],
                    rationale=item["rationale"],
                    source=Source.IMPORT,
                    origin=ORIGIN_RANKINGS,
                )


def raw(model, *fields: str, json_fields: tuple[str, ...] = ()) -> list[tuple]:
    """Rows as stored (JSON as the database's text), in creation order, without ids or times."""
    casts = {f"{name}__text": Cast(name, TextField()) for name in json_fields}
    names = list(fields) + list(casts)
    return list(model.objects.order_by("id").annotate(**casts).values_list(*names))


def snapshot() -> dict:
    prompt_no = {pk: n for n, pk in enumerate(Prompt.objects.order_by("id").values_list("id", flat=True))}
    task_no = {pk: n for n, pk in enumerate(Task.objects.order_by("id").values_list("id", flat=True))}
    response_no = {pk: n for n, pk in enumerate(Response.objects.order_by("id").values_list("id", flat=True))}
    return {
        "records": raw(
            PreferenceRecord,
            *("external_id", "content_hash", "prompt_text", "outcome", "source", "origin", "language_id", "group"),
            *("prompt_external_id", "agreement", "model_a", "model_b", "client_hash", "annotator_id", "deleted_at"),
            json_fields=("prompt", "response_a", "response_b", "metadata"),
        ),
        "prompts": raw(
            Prompt,
            *("text", "content_hash", "language_id", "group", "source", "external_id", "version", "deleted_at"),
            json_fields=("content", "metadata"),
        ),
        "responses": [
            (prompt_no[row[0]], *row[1:])
            for row in raw(
                Response,
                "prompt_id",
                "text",
                "content_hash",
                "model_name",
                "version",
                json_fields=("content", "metadata"),
            )
        ],
        "tasks": [
            (prompt_no[row[0]], *row[1:])
            for row in raw(
                Task,
                *("prompt_id", "campaign__name", "language_id", "external_id", "import_hash", "annotation_count"),
                *("kind", "gold_position", "deleted_at"),
            )
        ],
        "items": [
            (task_no[t], response_no[r], p) for t, r, p in raw(TaskResponse, "task_id", "response_id", "position")
        ],
        "annotations": [
            (task_no[row[0]], *row[1:])
            for row in raw(
                Annotation,
                *("task_id", "annotator__username", "rationale", "seconds", "source", "origin", "suggested_by"),
                json_fields=("ranking", "flags", "display_order"),
            )
        ],
        "campaigns": sorted(Campaign.objects.values_list("name", "languages", "overlap", "guidelines")),
        "annotators": sorted(
            AnnotatorProfile.objects.values_list(
                "user__username", "user__is_active", "is_external", "languages", "user__groups__name"
            )
        ),
        "unusable": sorted(u.username for u in User.objects.all() if not u.has_usable_password()),
    }


def clear() -> None:
    for model in (Annotation, TaskResponse, Task, Response, Prompt, PreferenceRecord, AnnotatorProfile, Campaign):
        model.objects.all().delete()
    User.objects.filter(username__startswith="import:").delete()


def test_the_bulk_path_stores_exactly_what_the_orm_stored(tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "BATCH", 7)  # many batches, ids repeated across them
    path = write(tmp_path / "mixed.jsonl", mixed_lines(60))
    orm_import(path)
    expected = snapshot()
    clear()
    report = feedback_import(path=path)
    assert (report.pairs_created, report.tasks_created, report.pairs_unchanged, report.tasks_unchanged) == (
        30,
        30,
        1,
        1,
    )
    assert snapshot() == expected
    again = feedback_import(path=path)  # everything is stored already: all unchanged, nothing written
    assert (again.pairs_created, again.tasks_created, again.pairs_unchanged + again.tasks_unchanged) == (0, 0, 62)
    assert snapshot() == expected


def test_the_pairs_export_fast_path_writes_the_rows_the_exporter_builds(tmp_path):
    path = write(tmp_path / "mixed.jsonl", mixed_lines(40))
    feedback_import(path=path)
    PreferenceRecord.objects.filter(external_id="pair-4").update(outcome="b", source=Source.ARENA, origin="local")
    PreferenceRecord.objects.filter(external_id="pair-8").update(outcome="tie")  # no pair
    spec = ExportSpec(format="pairs")
    count = feedback_export(spec=spec, out=tmp_path / "out.jsonl")
    written = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    expected = [json.dumps(row, ensure_ascii=False) for row in export_rows(spec)]
    assert count == len(written) == len(expected) > 20
    assert written == expected  # byte for byte, key order included
    swapped = next(json.loads(line) for line in written if '"id": "pair-4"' in line)
    assert swapped["chosen"] == f"{TEXTS['he'][2]} 4"  # outcome b: response B is the chosen one
    assert swapped["rejected"] == [{"role": "assistant", "content": TEXTS["he"][1]}]


def test_one_bad_line_at_the_end_of_a_long_file_refuses_it_all(tmp_path):
    lines = mixed_lines(4000)
    bad = b'{"prompt": "p", "chosen": "same", "rejected": "same", "language": "en"}\n'
    path = write(tmp_path / "long.jsonl", lines, tail=bad)
    with pytest.raises(ImportRejected) as refused:
        feedback_import(path=path)
    assert [e["line"] for e in refused.value.extra["errors"]] == [len(lines) + 1]
    assert "the same text" in refused.value.extra["errors"][0]["error"]
    assert refused.value.report.pairs_created == refused.value.report.tasks_created == 0
    for model in (PreferenceRecord, Prompt, Response, Task, TaskResponse, Annotation):
        assert not model.objects.exists()


def test_an_id_reused_with_other_content_many_batches_later_names_its_first_line(tmp_path):
    lines = mixed_lines(5000)
    changed = dict(lines[2], prompt="something else")  # pair-2, first on line 3
    path = write(tmp_path / "reused.jsonl", [*lines, changed])
    with pytest.raises(ImportRejected) as refused:
        feedback_import(path=path)
    assert refused.value.extra["errors"] == [
        {"line": len(lines) + 1, "error": "id 'pair-2' was used on line 3 with different content"}
    ]
    assert not Task.objects.exists()


def peak_bytes(path: str) -> int:
    clear()
    tracemalloc.start()
    try:
        feedback_import(path=path)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_in_the_file_size(tmp_path):
    lines = mixed_lines(10000)
    small = write(tmp_path / "small.jsonl", lines[:2500])
    large = write(tmp_path / "large.jsonl", lines)
    peak_bytes(small)  # warm caches (translations, query compilation) outside the measurement
    small_peak, large_peak = peak_bytes(small), peak_bytes(large)
    # Four times the lines; a few batches' buffers either way, so the peaks are close.
    assert large_peak < 1.5 * small_peak, (small_peak, large_peak)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(settings.IS_SQLITE, reason="the statistics are PostgreSQL's")
def test_a_large_import_refreshes_the_statistics_of_the_tables_it_wrote(tmp_path, monkeypatch):
    def analyzed() -> dict[str, object]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # a fresh read of the statistics views
            cursor.execute("SELECT relname, last_analyze FROM pg_stat_user_tables WHERE relname LIKE 'feedback_%%'")
            return dict(cursor.fetchall())

    statements: list[str] = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    monkeypatch.setattr(importing, "ANALYZE_AFTER_ROWS", 10**9)  # a small import leaves them to autovacuum
    with connection.execute_wrapper(record):
        feedback_import(path=write(tmp_path / "small.jsonl", mixed_lines(10)))
    assert not [sql for sql in statements if sql.startswith("ANALYZE")]
    before = analyzed()
    monkeypatch.setattr(importing, "ANALYZE_AFTER_ROWS", 20)  # what a large one writes, on a small scale
    feedback_import(path=write(tmp_path / "large.jsonl", mixed_lines(40)[10:]))
    after = analyzed()
    for table in ("feedback_task", "feedback_annotation", "feedback_preferencerecord", "feedback_prompt"):
        assert after[table] is not None and after[table] != before[table], table


@pytest.mark.skipif(settings.IS_SQLITE, reason="sequences are PostgreSQL's")
def test_reserved_ids_are_the_sequence_s_own_whether_or_not_they_run_in_one_range():
    """Ids come as a range when no other writer took a number in between, else one by one: a sequence that
    steps by 3 (as numbers taken by concurrent writers would leave gaps) still gives exactly its own numbers,
    and a row inserted after them gets a later one."""
    from webapp.feedback.services.bulk import Table

    table = Table(Prompt, ("id",))
    first = table.reserve(4)
    assert first == list(range(first[0], first[0] + 4))
    with connection.cursor() as cursor:
        cursor.execute("ALTER SEQUENCE feedback_prompt_id_seq INCREMENT BY 3")
        try:
            gapped = table.reserve(4)
        finally:
            cursor.execute("ALTER SEQUENCE feedback_prompt_id_seq INCREMENT BY 1")
    assert gapped == [first[-1] + 3 * k for k in range(1, 5)]
    assert table.reserve(0) == []
    prompt = Prompt.objects.create(content="x", text="x", content_hash="h", language=language_get_or_create("en"))
    assert prompt.pk > gapped[-1]


@pytest.mark.parametrize(
    "content",
    ["plain", 'q"uote \\ \n\t\x01 \u2028 שלום 日本 👋🏽', "", [{"role": "user", "content": 'hi "x"'}]],
)
def test_the_import_s_one_encoding_gives_the_content_hash(content):
    assert importing._stored_and_hash(content) == (importing._text_json(content), content_hash(content))
