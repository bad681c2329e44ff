"""Scale benchmark (issue 15): the staff pages and APIs at a small and a large store, on PostgreSQL, each
figure beside the same figure on the small store measured in the same run. Run from the repository root:

    .venv/bin/python bench/scale.py            # 10k vs 1M annotations (the 1M store takes minutes to build once)
    .venv/bin/python bench/scale.py --quick    # 10k vs 100k annotations

Each store is its own database (polyglot_scale_<size>, or $BENCH_SCALE_PREFIX_<size>, on the server of
BENCH_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/): ranking tasks of three responses in nine
languages, three imported rankings each (source import: they stay in the review figures), built by the fast
import and kept between runs (a store whose annotation count is already right is reused; `--rebuild` builds
it again), and the review summary folded before anything is timed (webapp/feedback/quality/fold.py; the
time it took is printed).
The small store has 10,000 annotations over ~3,300 tasks, the large one 100,000 or 1,000,000 over ~33,000
or ~330,000.

What is timed, in a fresh process per store and round (Django's test client, signed in as staff, no server):
`/` (home dashboard), `/review/`, `GET /api/v1/review/`, a training-job launch (`POST /api/v1/training-jobs/`,
which answers at once and counts nothing: issue 15 item 2), its pair-count preview (`POST
/api/v1/training-jobs/preview/`, capped at TRAINING_PREVIEW_MAX_PAIRS), and a page of each cursor-paginated list
(`/api/v1/annotations/`, `/api/v1/tasks/`). Rounds alternate small and large (`--rounds`, default 3) so load
hits both alike; each request is timed `--repeat` times (default 3) a round after one warm-up; p50 and p95 are
over all timed requests. The ratio is large / small; the goal is at most 1.5 at 1M. The load average is printed
with each round. Import speed (item 3), export (item 4) and the annotation cycle (item 5) have their own
benchmarks: bench/import_export.py, bench/store.py and bench/annotate.py.

Each store also holds arena battles, one per ten annotations (1,000 / 10,000 / 100,000), between 20 external
models in the nine languages, imported from a Chatbot Arena log (`--format arena`). `/arena-stats/` and
`GET /api/v1/arena/leaderboard/` are timed like the others; both read the arena's folded tallies and ratings
fitted once per change token and shared between processes (webapp/arena/tallies.py, webapp/arena/selectors.py),
so they are also timed on their first request in a fresh process (the stored fit read back) and right after a
change (a marker inserted, so the fit and vote hygiene are computed again: what the first visitor after a new
vote waits for). The home page keeps what it computed for 30 s per process (webapp/pages/dashboard.py), so it
is also timed with that cache cleared first.

This is a measurement, not a test: nothing fails on a slow number. The table is printed and kept at
var/bench/scale.md.
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

from bench.report import markdown_table, p95, write_text  # noqa: E402
from bench.store import WORK, django_for, log, make_text, sentence_pool  # noqa: E402

LANGUAGES = ["en", "de", "fr", "es", "ar", "ru", "hi", "zh-Hans", "ja"]
RANKINGS_PER_TASK = 3
SMALL = 10_000
ANNOTATORS_PER_LANGUAGE = 40
ENDPOINTS = [
    ("home `/`", "GET", "/", None),
    ("`/review/`", "GET", "/review/", None),
    ("`GET /api/v1/review/`", "GET", "/api/v1/review/", None),
    ("training launch (202)", "POST", "/api/v1/training-jobs/", {"kind": "dpo", "parent": "scale-base", "data": {}}),
    ("launch form's preview", "POST", "/api/v1/training-jobs/preview/", {"data": {}}),
    ("`GET /api/v1/annotations/` (a page)", "GET", "/api/v1/annotations/?page_size=50", None),
    ("`GET /api/v1/tasks/` (a page)", "GET", "/api/v1/tasks/?page_size=50", None),
    ("`/arena-stats/`", "GET", "/arena-stats/", None),
    ("`GET /api/v1/arena/leaderboard/`", "GET", "/api/v1/arena/leaderboard/", None),
]
COLD = {"`/arena-stats/`", "`GET /api/v1/arena/leaderboard/`"}  # also timed on their first request, and refitted
UNCACHED = {"home `/`"}  # also timed with its per-process cache cleared first (what it computes every 30 s)
BATTLES_PER_ANNOTATION = 0.1
ARENA_MODELS = [f"ext-model-{k:02d}" for k in range(20)]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k annotations for the large store, not 1M")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true", help="build the stores again")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # internal: time one store (a database URL)
    parser.add_argument("--build", help=argparse.SUPPRESS)  # internal: build one store
    parser.add_argument("--annotations", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


def server_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/polyglot_bench")
    return url.rsplit("/", 1)[0]


def store_url(annotations: int) -> str:
    prefix = os.environ.get("BENCH_SCALE_PREFIX", "polyglot_scale")  # a private name where several runs share a server
    return f"{server_url()}/{prefix}_{annotations // 1000}k"


def ensure_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


# --- building a store (in its own process) ----------------------------------------------------------


def build(url: str, annotations: int, rebuild: bool) -> None:
    django_for(url, "scale")
    from django.core.management import call_command
    from django.db import connection

    from webapp.arena.models import Vote
    from webapp.feedback.models import Annotation

    call_command("migrate", verbosity=0, interactive=False)
    tasks = annotations // RANKINGS_PER_TASK
    complete = Annotation.objects.count() == tasks * RANKINGS_PER_TASK and Vote.objects.count() == int(
        annotations * BATTLES_PER_ANNOTATION
    )
    if not rebuild and complete:
        log(f"{url.rsplit('/', 1)[1]}: {annotations:,} annotations already there, reused")
        fold_summary()
        return
    from bench.store import truncate_feedback, vacuum_analyze
    from webapp.feedback.services.importing import feedback_import

    truncate_feedback()
    rng = random.Random(15)
    pools = {code: sentence_pool(rng, code) for code in LANGUAGES}
    path = WORK / f"scale-{annotations}.jsonl"
    started = time.perf_counter()
    with path.open("w", encoding="utf-8") as handle:
        for i in range(tasks):
            code = LANGUAGES[i % len(LANGUAGES)]
            pool = pools[code]
            annotators = rng.sample(range(ANNOTATORS_PER_LANGUAGE), RANKINGS_PER_TASK)
            line = {
                "id": f"scale-{i}",
                "prompt": make_text(rng, pool)[:200],
                "language": code,
                "group": f"g{i // len(LANGUAGES)}",
                "campaign": f"Scale {code}",
                "responses": [{"text": f"{make_text(rng, pool)} ({k})", "model": f"m{k}"} for k in range(3)],
                "rankings": [
                    {
                        "annotator": f"{code}-{a}",
                        "ranking": rng.choice([[[0], [1], [2]], [[1], [0, 2]], [[2], [1], [0]]]),
                    }
                    for a in annotators
                ],
            }
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    report = feedback_import(path=path)
    path.unlink()
    log(
        f"built {url.rsplit('/', 1)[1]}: {report.tasks_created:,} tasks, {report.annotations_created:,} annotations "
        f"in {time.perf_counter() - started:.0f} s"
    )
    started = time.perf_counter()
    battles = write_arena_log(rng, pools, int(annotations * BATTLES_PER_ANNOTATION))
    feedback_import(path=battles, format="arena", origin="scale-arena")
    battles.unlink()
    count = int(annotations * BATTLES_PER_ANNOTATION)
    log(f"imported {count:,} arena battles in {time.perf_counter() - started:.0f} s")
    fold_summary()
    vacuum_analyze()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        log(f"database size {cursor.fetchone()[0]}")


def write_arena_log(rng: random.Random, pools: dict, battles: int) -> Path:
    """A Chatbot Arena log of `battles` anonymous one-turn battles; model k is better than model k+1, so the
    fit has a real order to find."""
    path = WORK / f"scale-arena-{battles}.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for i in range(battles):
            code = LANGUAGES[i % len(LANGUAGES)]
            a, b = rng.sample(range(len(ARENA_MODELS)), 2)
            p_a = 1 / (1 + 10 ** ((a - b) / 10))
            u = rng.random()
            decided = "model_a" if rng.random() < p_a else "model_b"
            winner = "tie" if u < 0.1 else "tie (bothbad)" if u < 0.15 else decided
            question = make_text(rng, pools[code])[:200]
            record = {
                "question_id": f"scale-battle-{i}",
                "model_a": ARENA_MODELS[a],
                "model_b": ARENA_MODELS[b],
                "winner": winner,
                "judge": f"voter-{rng.randrange(3000)}",
                "turn": 1,
                "anony": True,
                "language": code,
                "tstamp": 1.7e9 + i,
                "conversation_a": [
                    {"role": "user", "content": question},
                    {"role": "assistant", "content": make_text(rng, pools[code])},
                ],
                "conversation_b": [
                    {"role": "user", "content": question},
                    {"role": "assistant", "content": make_text(rng, pools[code])},
                ],
            }
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def fold_summary() -> None:
    """Bring the review summary up to date before anything is timed, as the periodic fold would (a read
    leaves more than REVIEW_FOLD_ON_READ pending rows to it); its time is printed, not part of the table."""
    from webapp.arena.tallies import arena_fold, arena_pending
    from webapp.feedback.quality.fold import review_catch_up, review_pending, review_state

    if arena_pending(1):
        started, markers = time.perf_counter(), 0
        while folded := arena_fold():
            markers += folded
        log(f"arena tallies folded: {markers:,} markers in {time.perf_counter() - started:.0f} s")
    if not review_pending(review_state(), 1):
        return
    started = time.perf_counter()
    tasks = review_catch_up()
    log(f"review summary folded: {tasks:,} tasks in {time.perf_counter() - started:.0f} s")


def staff_and_base():
    from django.contrib.auth.models import User

    from ml.llm.files import write_folder_atomically
    from webapp.modelstore.models import ModelVariant
    from webapp.modelstore.services import store_path, variant_register

    staff, _created = User.objects.get_or_create(username="scale-staff", defaults={"is_staff": True})
    folder = store_path("base/scale-base")
    if not folder.exists():  # also for a store built from another checkout (its own models store)
        write_folder_atomically(folder, lambda tmp: tmp.mkdir())
    if not ModelVariant.objects.filter(name="scale-base").exists():
        variant_register(name="scale-base", kind="base", path="base/scale-base")
    return staff


# --- timing one store (in its own process) -----------------------------------------------------------


def measure(url: str, repeat: int) -> dict[str, list[float]]:
    django_for(url, "scale")
    from django.core.cache import cache
    from django.test import Client

    from webapp.arena.tallies import arena_touch
    from webapp.training.models import TrainingJob

    staff = staff_and_base()
    client = Client()
    client.force_login(staff)
    times: dict[str, list[float]] = {}
    for name, method, path, body in ENDPOINTS:

        def call(method=method, path=path, body=body):
            if method == "GET":
                return client.get(path)
            return client.post(path, body, "application/json")

        started = time.perf_counter()
        reply = call()  # warm-up (and a first read that builds anything cached)
        if name in COLD:
            times.setdefault(f"{name}, first request", []).append(time.perf_counter() - started)
        if reply.status_code >= 400:
            raise SystemExit(f"{name}: {reply.status_code} {reply.content[:300]!r}")
        for _ in range(repeat):
            started = time.perf_counter()
            call()
            times.setdefault(name, []).append(time.perf_counter() - started)
        for _ in range(repeat if name in UNCACHED else 0):
            cache.clear()
            started = time.perf_counter()
            call()
            times.setdefault(f"{name}, uncached", []).append(time.perf_counter() - started)
        for _ in range(repeat if name in COLD else 0):
            arena_touch()  # a change: the next read folds it and fits again
            started = time.perf_counter()
            call()
            times.setdefault(f"{name}, after a change", []).append(time.perf_counter() - started)
    TrainingJob.objects.filter(parent__name="scale-base").delete()  # the launches leave no queue behind
    return times


def main() -> None:
    args = parse_args()
    if args.build:
        build(args.build, args.annotations, args.rebuild)
        return
    if args.measure:
        print("RESULT " + json.dumps(measure(args.measure, args.repeat)))
        return
    large = 100_000 if args.quick else 1_000_000
    sizes = {"small": SMALL, "large": large}
    urls = {label: store_url(n) for label, n in sizes.items()}
    for label, n in sizes.items():
        ensure_database(urls[label])
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--build",
                urls[label],
                "--annotations",
                str(n),
                *(["--rebuild"] if args.rebuild else []),
            ],
            check=True,
        )
    collected: dict[str, dict[str, list[float]]] = {"small": {}, "large": {}}
    loads = []
    for round_no in range(args.rounds):
        for label in ("small", "large") if round_no % 2 == 0 else ("large", "small"):
            load = os.getloadavg()[0]
            out = subprocess.run(
                [sys.executable, __file__, "--measure", urls[label], "--repeat", str(args.repeat)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            result = json.loads(out.split("RESULT ", 1)[1])
            for name, values in result.items():
                collected[label].setdefault(name, []).extend(values)
            loads.append(load)
            log(f"round {round_no + 1}, {label} store ({sizes[label]:,} annotations): timed; load {load:.1f}")
    rows = []
    names = [name for name, *_rest in ENDPOINTS]
    names += [f"{name}, uncached" for name in names if name in UNCACHED]
    names += [f"{name}, {when}" for name in names if name in COLD for when in ("first request", "after a change")]
    for name in names:
        small, big = collected["small"][name], collected["large"][name]
        rows.append(
            [
                name,
                f"{statistics.median(small) * 1000:,.0f}",
                f"{p95(small) * 1000:,.0f}",
                f"{statistics.median(big) * 1000:,.0f}",
                f"{p95(big) * 1000:,.0f}",
                f"{statistics.median(big) / statistics.median(small):.2f}",
                f"{p95(big) / p95(small):.2f}",
            ]
        )
    columns = [
        "request",
        "p50 ms, 10k",
        "p95 ms, 10k",
        f"p50 ms, {large // 1000:,}k",
        f"p95 ms, {large // 1000:,}k",
        "p50 ratio",
        "p95 ratio",
    ]
    title = (
        f"Scale: staff pages and APIs at {SMALL:,} vs {large:,} annotations (PostgreSQL, {args.rounds} interleaved "
        f"rounds × {args.repeat}; load average {min(loads):.1f}–{max(loads):.1f}; goal: ratio ≤ 1.5 at 1M)"
    )
    write_text(f"{title}\n\n" + markdown_table(columns, rows), WORK / "scale.md")


if __name__ == "__main__":
    main()
