"""Bulk import and export benchmark (issue 15, items 3, 4 and 7), each beside a baseline in the same run.
Run from the repository root:

    .venv/bin/python bench/import_export.py --quick     # 10k lines of each kind (a couple of minutes)
    .venv/bin/python bench/import_export.py             # 100k lines of each kind
    .venv/bin/python bench/import_export.py --sqlite    # the same on SQLite (no COPY baseline there)

PostgreSQL: BENCH_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/polyglot_bench_import (a throwaway
database, created when missing and migrated; its feedback tables are truncated before each phase). SQLite:
var/bench/import_export.sqlite3. Generated files go to var/bench/ and are removed at the end.

Figures (medians over interleaved rounds; this is a measurement, nothing fails on a slow number):
- import: lines/s of `feedback_import` (what `manage.py import_feedback` and the upload job run) for a file of
  N ranking lines (3-4 responses, 3 rankings with ties, 9 languages) and one of N pair lines;
- export: `feedback_export` (format pairs) of the imported pairs vs a raw `COPY (SELECT ...) TO STDOUT` of the
  same rows and columns; pairs derived from the imported rankings vs a COPY of the same annotations (with their
  tasks' responses), reported separately;
- memory: peak RSS (VmHWM) of a fresh process importing, and exporting, N/10 and N lines; and of a refused
  import of N pair lines whose last line is bad (nothing written);
- the load average, before and after: the machine may be shared, and load distorts every figure.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.store import log, make_pair, make_text, memory_kib, sentence_pool  # noqa: E402

WORK = ROOT / "var" / "bench"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/polyglot_bench_import"
LANGUAGES = ("en", "de", "fr", "es", "ru", "ar", "he", "zh-Hans", "ja")  # 9, RTL and CJK among them
ANNOTATORS = 50
RANKINGS = ([[0], [1], [2]], [[1], [0, 2]], [[2, 0], [1]], [[0], [2], [1]])
RECORDS_COPY = (
    'COPY (SELECT external_id, prompt, response_a, response_b, outcome, source, origin, language_id, "group", '
    "prompt_external_id, agreement, metadata FROM feedback_preferencerecord ORDER BY id) TO STDOUT"
)
ANNOTATIONS_COPY = (
    "COPY (SELECT a.task_id, a.ranking, a.flags, a.source, a.origin, t.language_id, p.content, r.content "
    "FROM feedback_annotation a JOIN feedback_task t ON t.id = a.task_id JOIN feedback_prompt p ON p.id = t.prompt_id "
    "JOIN feedback_taskresponse i ON i.task_id = t.id JOIN feedback_response r ON r.id = i.response_id "
    "ORDER BY a.task_id, a.id, i.position) TO STDOUT"
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10k lines of each kind instead of 100k")
    parser.add_argument("-n", type=int, help="lines of each kind (overrides --quick)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (medians are printed)")
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--child", nargs=2, metavar=("WHAT", "PATH"), help=argparse.SUPPRESS)
    return parser.parse_args()


def configure(sqlite: bool) -> str:
    url = (
        f"sqlite:///{WORK / 'import_export.sqlite3'}"
        if sqlite
        else os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    os.environ.update(DATABASE_URL=url, VAR_DIR=str(WORK), DEBUG="false", SEARCH_INDEX_ON_SAVE="false")
    WORK.mkdir(parents=True, exist_ok=True)
    return url


def setup_django(url: str, *, migrate: bool) -> None:
    import django

    if url.startswith("postgres") and migrate:
        from bench.store import ensure_database

        ensure_database(url)
    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)


# --- data ---------------------------------------------------------------------------------------


def write_files(n: int) -> tuple[Path, Path]:
    rng = random.Random(20261202)
    pools = {code: sentence_pool(rng, code) for code in LANGUAGES}
    pairs, rankings = WORK / f"pairs-{n}.jsonl", WORK / f"rankings-{n}.jsonl"
    with pairs.open("w", encoding="utf-8") as handle:
        for i in range(n):
            handle.write(json.dumps(make_pair(rng, pools, i), ensure_ascii=False) + "\n")
    with rankings.open("w", encoding="utf-8") as handle:
        for i in range(n):
            code = LANGUAGES[i % len(LANGUAGES)]
            count = 3 + i % 2
            texts = [f"{make_text(rng, pools[code])} ({k})" for k in range(count)]
            people = rng.sample(range(ANNOTATORS), 3)
            line = {
                "id": f"bench-task-{i:07d}",
                "prompt": make_text(rng, pools[code]),
                "language": code,
                "group": f"group-{i % 20_000}",
                "responses": [{"text": t, "model": f"model-{k}"} for k, t in enumerate(texts)],
                "rankings": [{"annotator": f"bench-{p}", "ranking": _ranking(rng, count)} for p in people],
            }
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    return rankings, pairs


def _ranking(rng: random.Random, count: int) -> list[list[int]]:
    ranking = [list(rank) for rank in rng.choice(RANKINGS)]
    if count == 4:
        ranking.insert(rng.randrange(len(ranking) + 1), [3])
    return ranking


def with_bad_last_line(path: Path) -> Path:
    bad = path.with_name(f"bad-{path.name}")
    with path.open("rb") as src, bad.open("wb") as out:
        while block := src.read(1 << 20):
            out.write(block)
        out.write(b'{"prompt": "p", "chosen": "same", "rejected": "same", "language": "en"}\n')
    return bad


# --- phases -------------------------------------------------------------------------------------


def truncate() -> None:
    from django.contrib.auth.models import User
    from django.db import connection

    tables = [
        t for t in connection.introspection.table_names() if t.startswith("feedback_") and t != "feedback_language"
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        else:
            cursor.execute("PRAGMA foreign_keys = OFF")
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")
            cursor.execute("PRAGMA foreign_keys = ON")
    User.objects.filter(username__startswith="import:").delete()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def time_import(path: Path, lines: int) -> float:
    from webapp.feedback.services.importing import feedback_import

    start = time.perf_counter()
    report = feedback_import(path=path)
    seconds = time.perf_counter() - start
    if report.pairs_created + report.tasks_created != lines:
        raise RuntimeError(f"imported {report.pairs_created + report.tasks_created} of {lines} lines")
    return seconds


def time_export(out: Path) -> tuple[float, int]:
    from webapp.feedback.formats.exporting import ExportSpec, feedback_export

    start = time.perf_counter()
    rows = feedback_export(spec=ExportSpec(format="pairs"), out=out)
    return time.perf_counter() - start, rows


def time_copy(sql: str, out: Path) -> float:
    from django.db import connection

    connection.ensure_connection()
    start = time.perf_counter()
    with out.open("wb") as handle, connection.connection.cursor() as cursor:
        with cursor.copy(sql) as copy:
            for block in copy:
                handle.write(block)
        handle.flush()
        os.fsync(handle.fileno())
    return time.perf_counter() - start


def child(what: str, path: str) -> None:
    """In a fresh process: one import or export, then its peak RSS as JSON."""
    from webapp.errors import ApplicationError
    from webapp.feedback.services.importing import feedback_import

    before = memory_kib("VmRSS")
    if what == "import":
        report = feedback_import(path=path)
        done = report.lines
    elif what == "import-bad":
        try:
            feedback_import(path=path)
            raise SystemExit("the bad file was accepted")
        except ApplicationError as exc:
            errors = exc.extra["errors"]
            done = errors[0]["line"]
    else:
        done = time_export(Path(path))[1]
    print(json.dumps({"what": what, "lines": done, "setup_kib": before, "peak_kib": memory_kib("VmHWM")}))


def in_child(args: argparse.Namespace, what: str, path: Path) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", what, str(path)]
    command += ["--sqlite"] if args.sqlite else []
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"child {what} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def head(path: Path, lines: int) -> Path:
    part = path.with_name(f"head{lines}-{path.name}")
    with path.open("rb") as src, part.open("wb") as out:
        for _i, line in zip(range(lines), src, strict=False):
            out.write(line)
    return part


def run(args: argparse.Namespace) -> None:
    from django.db import connection

    n = args.n or (10_000 if args.quick else 100_000)
    pg = connection.vendor == "postgresql"
    load_before = os.getloadavg()
    log(f"{connection.vendor}, {n:,} lines of each kind, {args.rounds} rounds; load {load_before[0]:.2f}")
    rankings, pairs = write_files(n)
    figures: dict[str, list[float]] = {}
    phases = (("pairs", pairs, RECORDS_COPY, "record"), ("rankings", rankings, ANNOTATIONS_COPY, "derived"))
    for round_no in range(args.rounds):
        for kind, path, copy_sql, exported in phases:
            truncate()
            figures.setdefault(f"{kind}/s", []).append(n / time_import(path, n))
            if pg:
                connection.cursor().execute("VACUUM ANALYZE")
                copy_s = time_copy(copy_sql, WORK / "copy.tsv")
            seconds, rows = time_export(WORK / "export.jsonl")
            figures.setdefault(f"{exported} export rows/s", []).append(rows / seconds)
            if pg:
                figures.setdefault(f"{exported} export / COPY", []).append(copy_s / seconds)
        log(f"round {round_no + 1}: " + ", ".join(f"{k} {v[-1]:,.2f}" for k, v in figures.items()))
    memory = {}
    small_pairs, small_rankings = head(pairs, n // 10), head(rankings, n // 10)
    for label, path in (("pairs", small_pairs), ("pairs", pairs), ("rankings", small_rankings), ("rankings", rankings)):
        truncate()
        got = in_child(args, "import", path)
        exported = in_child(args, "export", WORK / "export-child.jsonl")
        memory[f"import {label} {got['lines']:,}"] = got["peak_kib"] / 1024
        memory[f"export {label} {exported['lines']:,} rows"] = exported["peak_kib"] / 1024
    truncate()
    bad = in_child(args, "import-bad", with_bad_last_line(pairs))
    memory[f"refused import, bad line {bad['lines']:,}"] = bad["peak_kib"] / 1024
    print()
    print(f"## bench/import_export.py ({connection.vendor}, N = {n:,}, median of {args.rounds} rounds)")
    print("| figure | median |")
    print("|---|---|")
    for key, values in figures.items():
        print(f"| {key} | {statistics.median(values):,.2f} |")
    for key, mib in memory.items():
        print(f"| peak RSS, {key} | {mib:,.0f} MiB |")
    load_after = os.getloadavg()
    print(f"\nload average (1, 5, 15 min): before {load_before}, after {tuple(round(x, 2) for x in load_after)}")
    for path in WORK.glob("*.jsonl"):
        path.unlink()
    for path in WORK.glob("*.tsv"):
        path.unlink()


def main() -> None:
    args = parse_args()
    url = configure(args.sqlite)
    setup_django(url, migrate=not args.child)
    if args.child:
        child(*args.child)
        return
    run(args)


if __name__ == "__main__":
    main()
