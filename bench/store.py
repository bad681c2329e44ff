"""Store benchmark: import, export and task assignment on PostgreSQL, each beside a baseline measured
in the same run. Run from the repository root:

    .venv/bin/python bench/store.py            # full: 100k pairs; 1k vs 100k tasks (several minutes)
    .venv/bin/python bench/store.py --quick    # smoke run: 10k pairs; 1k vs 10k tasks

The database is BENCH_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/polyglot_bench; it is
created when missing and migrated, and its feedback tables are truncated before each phase. Files go
to var/bench/ and are removed at the end, except the Markdown table printed last: var/bench/store.md.

What is compared (ratio = ours / baseline):
- import: `feedback_import` of a generated JSONL file (parsing, validation, hashing, id checks, writes)
  vs a bare `bulk_create(batch_size=1000)` of the same rows already parsed in memory;
- export: `feedback_export` in format "pairs" vs a raw `COPY ... TO STDOUT` streamed to a file;
- export memory: peak RSS (VmHWM) of an export in a fresh process at the full size vs a tenth of it;
- assignment: `tasks_next` + `annotation_submit` latency in a campaign of many tasks vs few.
Each bulk load is followed by VACUUM (ANALYZE), so the planner has statistics and no autovacuum runs
during the measurement. This is a measurement, not a test: nothing here fails on a slow number.
"""

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/polyglot_bench"
USER_PREFIX = "bench-annotator-"
ANNOTATORS = 20
ITERATIONS = 200
WARMUP = 20
RANKING = [[0], [1], [2]]
COPY_SQL = (
    'COPY (SELECT external_id, prompt, response_a, response_b, language_id, "group" '
    "FROM feedback_preferencerecord ORDER BY id) TO STDOUT"
)

# One phrase per language; spaced scripts split into words, the others into short character runs.
PHRASES = {
    "en": "the answer should explain clearly why each step follows from the previous one and end with a short "
    "worked example that a beginner can check by hand",
    "de": "die Antwort sollte klar erklären warum jeder Schritt aus dem vorherigen folgt und mit einem kurzen "
    "Beispiel enden das ein Anfänger selbst nachrechnen kann",
    "fr": "la réponse doit expliquer clairement pourquoi chaque étape découle de la précédente et se terminer "
    "par un court exemple que le lecteur peut vérifier",
    "es": "la respuesta debe explicar con claridad por qué cada paso se sigue del anterior y terminar con un "
    "ejemplo breve que el lector pueda comprobar",
    "ru": "ответ должен ясно объяснить почему каждый шаг следует из предыдущего и закончиться коротким "
    "примером который читатель может проверить сам",
    "el": "η απάντηση πρέπει να εξηγεί καθαρά γιατί κάθε βήμα προκύπτει από το προηγούμενο και να τελειώνει "
    "με ένα σύντομο παράδειγμα",
    "ar": "يجب أن تشرح الإجابة بوضوح لماذا تتبع كل خطوة من الخطوة السابقة وأن تنتهي بمثال قصير يستطيع القارئ "
    "التحقق منه",
    "he": "התשובה צריכה להסביר בבירור מדוע כל שלב נובע מהשלב הקודם ולהסתיים בדוגמה קצרה שהקורא יכול לבדוק",
    "hi": "उत्तर को स्पष्ट रूप से समझाना चाहिए कि हर कदम पिछले कदम से क्यों निकलता है और एक छोटे उदाहरण के साथ समाप्त होना चाहिए",
    "ko": "답변은 각 단계가 이전 단계에서 왜 나오는지 명확하게 설명하고 독자가 직접 확인할 수 있는 짧은 예시로 "
    "끝나야 합니다",
    "zh-Hans": "回答应当清楚地解释为什么每一步都由前一步推出并以一个读者可以亲手验证的简短例子结尾",
    "ja": "回答は各手順が前の手順からなぜ導かれるのかを明確に説明し読者が自分で確かめられる短い例で締めくくるべきです",
    "th": "คำตอบควรอธิบายอย่างชัดเจนว่าทำไมแต่ละขั้นตอนจึงตามมาจากขั้นตอนก่อนหน้าและจบด้วยตัวอย่างสั้นๆที่ผู้อ่านตรวจสอบได้",
}
UNSPACED = {"zh-Hans": "。", "ja": "。", "th": " "}


@dataclass(frozen=True)
class Sizes:
    pairs: int
    small_tasks: int
    large_tasks: int

    @property
    def small_export(self) -> int:
        return self.pairs // 10


FULL = Sizes(pairs=100_000, small_tasks=1_000, large_tasks=100_000)
QUICK = Sizes(pairs=10_000, small_tasks=1_000, large_tasks=10_000)


@dataclass(frozen=True)
class Row:
    metric: str
    ours: float
    baseline: float
    fmt: str

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline if self.baseline else float("nan")

    def markdown(self) -> str:
        return f"| {self.metric} | {self.ours:{self.fmt}} | {self.baseline:{self.fmt}} | {self.ratio:.2f} |"


# --- setup --------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Store benchmark against baselines measured in the same run.")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--export-child", type=int, metavar="N", help=argparse.SUPPRESS)
    return parser.parse_args()


def configure_environment() -> str:
    sys.path.insert(0, str(ROOT))
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    os.environ["DATABASE_URL"] = url
    os.environ["VAR_DIR"] = str(WORK)
    os.environ["DEBUG"] = "false"  # DEBUG would keep every query in memory
    WORK.mkdir(parents=True, exist_ok=True)
    return url


def ensure_database(url: str) -> None:
    import dj_database_url
    import psycopg
    from psycopg import sql

    cfg = dj_database_url.parse(url)
    conninfo = psycopg.conninfo.make_conninfo(
        dbname="postgres",
        user=cfg.get("USER") or None,
        password=cfg.get("PASSWORD") or None,
        host=cfg.get("HOST") or None,
        port=str(cfg["PORT"]) if cfg.get("PORT") else None,
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(cfg["NAME"])))
            log(f"created database {cfg['NAME']}")


def setup_django(*, migrate: bool) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit(f"this benchmark needs PostgreSQL, not {connection.vendor}")
    if migrate:
        call_command("migrate", verbosity=0, interactive=False)


def truncate_feedback() -> None:
    from django.contrib.auth.models import User
    from django.db import connection

    tables = [t for t in connection.introspection.table_names() if t.startswith("feedback_")]
    with connection.cursor() as cursor:
        names = ", ".join(connection.ops.quote_name(t) for t in tables)
        cursor.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    User.objects.filter(username__startswith=USER_PREFIX).delete()


def vacuum_analyze() -> None:
    """After a bulk load: planner statistics and a visibility map, as autovacuum would give a live
    database, and no insert-triggered autovacuum competing with the measurement that follows."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- data ---------------------------------------------------------------------------------------


def sentence_pool(rng: random.Random, code: str, size: int = 300) -> list[str]:
    phrase = PHRASES[code]
    if code in UNSPACED:
        words, joiner, stop = [phrase[i : i + 2] for i in range(0, len(phrase), 2)], "", UNSPACED[code]
    else:
        words, joiner, stop = phrase.split(), " ", ". "
    return [joiner.join(rng.choices(words, k=rng.randint(5, 12))) + stop for _ in range(size)]


def make_text(rng: random.Random, pool: list[str]) -> str:
    """A text of 100 to 400 characters."""
    target, parts, length = rng.randint(100, 400), [], 0
    while length < target:
        parts.append(rng.choice(pool))
        length += len(parts[-1])
    return "".join(parts)[:target].strip()


def make_pair(rng: random.Random, pools: dict[str, list[str]], i: int) -> dict:
    code = rng.choice(list(pools))
    prompt, chosen, rejected = (make_text(rng, pools[code]) for _ in range(3))
    if chosen == rejected:
        rejected += " (2)"
    return {
        "prompt": prompt,
        "chosen": chosen,
        "rejected": rejected,
        "language": code,
        "id": f"bench-{i:07d}",
        "group": f"group-{i % 25_000}",
    }


def write_pairs_file(path: Path, count: int) -> None:
    rng = random.Random(20240601)
    pools = {code: sentence_pool(rng, code) for code in PHRASES}
    with path.open("w", encoding="utf-8") as handle:
        for i in range(count):
            handle.write(json.dumps(make_pair(rng, pools, i), ensure_ascii=False) + "\n")


# --- import -------------------------------------------------------------------------------------


def baseline_records(path: Path) -> list[dict]:
    """The file parsed in memory, as model field values (languages created beforehand)."""
    from webapp.feedback.content import content_hash
    from webapp.feedback.services.languages import language_get_or_create

    languages = {code: language_get_or_create(code) for code in PHRASES}
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            obj = json.loads(line)
            rows.append(
                {
                    "external_id": obj["id"],
                    "content_hash": content_hash(obj["prompt"], obj["chosen"], obj["rejected"], obj["language"]),
                    "prompt": obj["prompt"],
                    "response_a": obj["chosen"],
                    "response_b": obj["rejected"],
                    "prompt_text": obj["prompt"],
                    "outcome": "a",
                    "source": "import",
                    "language": languages[obj["language"]],
                    "group": obj["group"],
                }
            )
    return rows


def time_bulk_create(rows: list[dict]) -> float:
    from django.db import transaction

    from webapp.feedback.models import PreferenceRecord

    start = time.perf_counter()
    with transaction.atomic():
        PreferenceRecord.objects.bulk_create([PreferenceRecord(**row) for row in rows], batch_size=1000)
    return time.perf_counter() - start


def time_feedback_import(path: Path, expected: int) -> float:
    from webapp.feedback.services.importing import feedback_import

    start = time.perf_counter()
    report = feedback_import(path=path, skip_invalid=False)
    elapsed = time.perf_counter() - start
    if report.pairs_created != expected:
        raise RuntimeError(f"import created {report.pairs_created} pairs, expected {expected}")
    return elapsed


def bench_import(sizes: Sizes, path: Path) -> list[Row]:
    """Leaves the store holding the imported pairs, for the export phase."""
    truncate_feedback()
    rows = baseline_records(path)
    baseline = time_bulk_create(rows)
    del rows
    log(f"import baseline (bulk_create): {sizes.pairs / baseline:,.0f} rows/s ({baseline:.1f} s)")
    truncate_feedback()
    ours = time_feedback_import(path, sizes.pairs)
    log(f"import ours (feedback_import): {sizes.pairs / ours:,.0f} rows/s ({ours:.1f} s)")
    metric = f"import {sizes.pairs:,} pairs, rows/s (baseline: bare `bulk_create`)"
    return [Row(metric, sizes.pairs / ours, sizes.pairs / baseline, ",.0f")]


# --- export -------------------------------------------------------------------------------------


def time_copy_export(out: Path) -> tuple[float, int]:
    from django.db import connection

    connection.ensure_connection()
    start, rows = time.perf_counter(), 0
    with out.open("wb") as handle, connection.connection.cursor() as cursor:
        with cursor.copy(COPY_SQL) as copy:
            for block in copy:
                rows += bytes(block).count(b"\n")
                handle.write(block)
        handle.flush()
        os.fsync(handle.fileno())
    return time.perf_counter() - start, rows


def time_feedback_export(out: Path) -> tuple[float, int]:
    from webapp.feedback.formats.exporting import ExportSpec, feedback_export

    start = time.perf_counter()
    rows = feedback_export(spec=ExportSpec(format="pairs"), out=out)
    return time.perf_counter() - start, rows


def memory_kib(field: str) -> int:
    """VmHWM (peak) or VmRSS (current) of this process, in KiB, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def export_child_main(expected: int) -> None:
    """In a fresh process: export the whole store and report peak memory.

    The peak is VmHWM, the high-water mark of this process's own address space. ru_maxrss is printed
    too but not used: Linux carries the parent's high-water mark over fork + execve, so in a child of
    this benchmark (which holds the parsed rows) it reports the parent's size."""
    setup_kib = memory_kib("VmRSS")
    seconds, rows = time_feedback_export(WORK / "export-child.jsonl")
    if rows != expected:
        raise SystemExit(f"child exported {rows} rows, expected {expected}")
    result = {
        "rows": rows,
        "seconds": seconds,
        "setup_kib": setup_kib,
        "peak_kib": memory_kib("VmHWM"),
        "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    print(json.dumps(result))


def export_in_child(rows: int) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--export-child", str(rows)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"export child failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    log(
        f"export child {rows:,} rows: peak RSS {result['peak_kib'] / 1024:.0f} MiB, "
        f"{result['setup_kib'] / 1024:.0f} MiB before the export ({result['seconds']:.1f} s; "
        f"ru_maxrss {result['ru_maxrss_kib'] / 1024:.0f} MiB, inherited from the parent)"
    )
    return result


def keep_first_records(count: int) -> None:
    from webapp.feedback.models import PreferenceRecord

    cutoff = PreferenceRecord.objects.order_by("id").values_list("id", flat=True)[count - 1]
    PreferenceRecord.objects.filter(id__gt=cutoff).delete()


def best_exports(rounds: int = 2) -> tuple[tuple[float, int], tuple[float, int]]:
    """Fastest of `rounds` alternating runs of each, so neither gains from the other warming the cache."""
    copies, ours = [], []
    for _ in range(rounds):
        copies.append(time_copy_export(WORK / "export-copy.tsv"))
        ours.append(time_feedback_export(WORK / "export-ours.jsonl"))
    return min(copies), min(ours)


def bench_export(sizes: Sizes) -> list[Row]:
    """Expects the store to hold `sizes.pairs` imported pairs; leaves a tenth of them."""
    vacuum_analyze()
    (base_s, base_rows), (ours_s, ours_rows) = best_exports()
    if base_rows != sizes.pairs or ours_rows != sizes.pairs:
        raise RuntimeError(f"exported {ours_rows} (ours) and {base_rows} (COPY) rows, expected {sizes.pairs}")
    log(f"export baseline (COPY): {base_rows / base_s:,.0f} rows/s; ours: {ours_rows / ours_s:,.0f} rows/s")
    large = export_in_child(sizes.pairs)
    keep_first_records(sizes.small_export)
    small = export_in_child(sizes.small_export)
    rss = f"export peak RSS, MiB (ours: {sizes.pairs:,} rows; baseline: {sizes.small_export:,} rows)"
    return [
        Row(
            f"export {sizes.pairs:,} pairs, rows/s (baseline: raw `COPY TO STDOUT`)",
            ours_rows / ours_s,
            base_rows / base_s,
            ",.0f",
        ),
        Row(rss, large["peak_kib"] / 1024, small["peak_kib"] / 1024, ",.0f"),
    ]


# --- assignment ---------------------------------------------------------------------------------


def text_fields(pool: list[str], i: int, kind: str) -> dict:
    """Content, plain text and hash of a short English text, distinct for each (i, kind)."""
    from webapp.feedback.content import content_hash

    body = f"{pool[i % len(pool)]}{pool[(i * 7 + len(kind)) % len(pool)]}({kind} {i})"
    return {"content": body, "text": body, "content_hash": content_hash(body)}


def build_task_chunk(campaign, pool: list[str], ids: range) -> None:
    from webapp.feedback.models import Prompt, Response, Task, TaskResponse

    prompts = Prompt.objects.bulk_create(
        [Prompt(**text_fields(pool, i, "prompt"), language_id="en", source="bench") for i in ids], batch_size=1000
    )
    responses = Response.objects.bulk_create(
        [
            Response(**text_fields(pool, i, f"response {k}"), prompt=prompt)
            for i, prompt in zip(ids, prompts, strict=True)
            for k in range(3)
        ],
        batch_size=1000,
    )
    tasks = Task.objects.bulk_create(
        [Task(campaign=campaign, prompt=prompt, language_id="en", annotation_count=0) for prompt in prompts],
        batch_size=1000,
    )
    TaskResponse.objects.bulk_create(
        [
            TaskResponse(task=task, response=responses[3 * j + k], position=k)
            for j, task in enumerate(tasks)
            for k in range(3)
        ],
        batch_size=1000,
    )


def build_tasks(campaign, count: int, chunk: int = 10_000) -> None:
    """`count` tasks of three responses each, bulk-created in chunks within one transaction."""
    from django.db import transaction

    pool = sentence_pool(random.Random(7), "en")
    with transaction.atomic():
        for start in range(0, count, chunk):
            build_task_chunk(campaign, pool, range(start, min(start + chunk, count)))


def make_annotators(count: int) -> list:
    """conftest's make_annotator, without a password (hashing one costs a second each)."""
    from django.contrib.auth.models import User

    from webapp.feedback.services.catalog import annotator_set_languages
    from webapp.permissions import ANNOTATOR, role_group

    users = []
    for i in range(count):
        user = User.objects.create_user(username=f"{USER_PREFIX}{i:02d}")
        user.groups.add(role_group(ANNOTATOR))
        annotator_set_languages(user=user, languages=["en"])
        users.append(user)
    return users


def next_and_submit(user, campaign_id: int) -> tuple[float, float]:
    from webapp.feedback.services.assignment import annotation_submit, tasks_next

    start = time.perf_counter()
    assignment = tasks_next(user=user, campaign_id=campaign_id)
    middle = time.perf_counter()
    if assignment is None:
        raise RuntimeError("tasks_next found no task")
    annotation_submit(user=user, task_id=assignment.task.pk, ranking=RANKING)
    return (middle - start) * 1000, (time.perf_counter() - middle) * 1000


def count_queries(user, campaign_id: int) -> tuple[int, int]:
    """Queries of one tasks_next and one annotation_submit."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from webapp.feedback.services.assignment import annotation_submit, tasks_next

    with CaptureQueriesContext(connection) as next_queries:
        assignment = tasks_next(user=user, campaign_id=campaign_id)
    with CaptureQueriesContext(connection) as submit_queries:
        annotation_submit(user=user, task_id=assignment.task.pk, ranking=RANKING)
    return len(next_queries), len(submit_queries)


def measure_assignment(tasks: int) -> dict[str, list[float]]:
    from webapp.feedback.services.catalog import campaign_create

    truncate_feedback()
    campaign = campaign_create(name="bench", languages=["en"], overlap=2)
    build_tasks(campaign, tasks)
    users = make_annotators(ANNOTATORS)
    vacuum_analyze()
    timings: dict[str, list[float]] = {"next": [], "submit": [], "next + submit": []}
    for i in range(WARMUP + ITERATIONS):
        next_ms, submit_ms = next_and_submit(users[i % len(users)], campaign.pk)
        if i >= WARMUP:
            for key, value in zip(timings, (next_ms, submit_ms, next_ms + submit_ms), strict=True):
                timings[key].append(value)
    queries = count_queries(users[0], campaign.pk)
    log(
        f"assignment, {tasks:,} tasks: p50 next {statistics.median(timings['next']):.2f} ms, "
        f"submit {statistics.median(timings['submit']):.2f} ms; queries next {queries[0]}, submit {queries[1]}"
    )
    return timings


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def bench_assignment(sizes: Sizes) -> list[Row]:
    small = measure_assignment(sizes.small_tasks)
    large = measure_assignment(sizes.large_tasks)
    versus = f"ours: {sizes.large_tasks:,} tasks; baseline: {sizes.small_tasks:,} tasks"
    rows = []
    for key, name in (("next", "`tasks_next`"), ("submit", "`annotation_submit`"), ("next + submit", "both")):
        rows.append(
            Row(f"{name} p50, ms ({versus})", statistics.median(large[key]), statistics.median(small[key]), ".2f")
        )
        rows.append(Row(f"{name} p95, ms ({versus})", p95(large[key]), p95(small[key]), ".2f"))
    return rows


# --- report -------------------------------------------------------------------------------------


def server_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0].split()[0]


def markdown_table(rows: list[Row], quick: bool) -> str:
    caption = (
        f"`bench/store.py{' --quick' if quick else ''}`, {date.today().isoformat()}: PostgreSQL {server_version()}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs. Ratio = ours / baseline."
    )
    lines = [caption, "", "| metric | ours | baseline | ratio |", "|---|---:|---:|---:|"]
    return "\n".join(lines + [row.markdown() for row in rows]) + "\n"


def remove_scratch_files() -> None:
    """The generated input and the exports (hundreds of MB at full size); store.md stays."""
    for pattern in ("pairs-*.jsonl", "export-*"):
        for path in WORK.glob(pattern):
            path.unlink()


def run_benchmark(quick: bool) -> None:
    sizes = QUICK if quick else FULL
    path = WORK / f"pairs-{sizes.pairs}.jsonl"
    log(f"writing {sizes.pairs:,} pairs to {path.relative_to(ROOT)}")
    write_pairs_file(path, sizes.pairs)
    rows = bench_import(sizes, path)
    rows += bench_export(sizes)
    rows += bench_assignment(sizes)
    truncate_feedback()
    remove_scratch_files()
    table = markdown_table(rows, quick)
    (WORK / "store.md").write_text(table, encoding="utf-8")
    print("\n" + table)
    log(f"written to {(WORK / 'store.md').relative_to(ROOT)}")


def main() -> None:
    args = parse_args()
    url = configure_environment()
    if args.export_child is not None:
        setup_django(migrate=False)
        export_child_main(args.export_child)
        return
    ensure_database(url)
    setup_django(migrate=True)
    started = time.perf_counter()
    run_benchmark(args.quick)
    log(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()


def django_for(url: str, folder: str) -> None:
    """Set Django up on the store at `url`, with its files (VAR_DIR) under WORK / folder, DEBUG off."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    os.environ["VAR_DIR"] = str(WORK / folder)
    os.environ["DEBUG"] = "false"
    (WORK / folder).mkdir(parents=True, exist_ok=True)
    import django

    django.setup()
