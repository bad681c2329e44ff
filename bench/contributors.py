"""Contributor figures benchmark (issue 15): the contribution leaderboard, the contributor stats and /review/ at
a small and a large store of contributions, each figure beside the same figure on the small store measured in
the same run. Run from the repository root:

    .venv/bin/python bench/contributors.py                 # 10k vs 100k contributions, SQLite
    .venv/bin/python bench/contributors.py --database-url postgres://postgres@127.0.0.1:5432/polyglot_bench

Each store is its own database (SQLite: var/bench/contributors/<size>k.sqlite3; with --database-url, databases
polyglot_contributors_<size>k on that server), kept between runs (a store whose contribution count is already
right is reused; `--rebuild` builds it again). A store: CONTRIBUTORS contributors who write and edit in nine
languages (the same people at both sizes, so the boards have the same rows), one write and one edit campaign
per language, three contributions per task, decided 60 % accepted / 25 % rejected / 15 % pending, two verify
votes on each decided one (bulk-created rows), then the tallies filled as the migration fills them
(tallies.tally_rebuild; its time is printed: it is the full recomputation every read did before).

What is timed, in a fresh process per store and round (Django's test client, signed in as staff, no server):
`GET /api/v1/contributors/leaderboard/`, `GET /api/v1/contributors/stats/`, `/review/`, and the same reads after
one new contribution by a contributor with a history (its marker is folded by the read: that contributor's
figures in that language recomputed). The last row is the baseline: the full GROUP BY recomputation over every
contribution and vote that each of those reads ran before the tallies (`tallies.recompute`). Rounds alternate
small and large (`--rounds`, default 3) so load hits both alike; each request is timed `--repeat` times
(default 5) a round after one warm-up; p50 and p95 are over all timed requests. The ratio is large / small; the
goal is at most 1.5. The load average is printed with each round. A measurement, not a test. The table is printed
and kept at var/bench/contributors.md.
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
from bench.store import WORK, django_for, log  # noqa: E402

LANGUAGES = ["en", "de", "fr", "es", "ar", "ru", "hi", "zh-Hans", "ja"]
CONTRIBUTORS = 120
PER_TASK = 3
VOTES = 2
SMALL, LARGE = 10_000, 100_000
ENDPOINTS = [
    ("`GET /api/v1/contributors/leaderboard/`", "/api/v1/contributors/leaderboard/"),
    ("`GET /api/v1/contributors/stats/`", "/api/v1/contributors/stats/"),
    ("`/review/`", "/review/"),
]
AFTER = "after a new contribution"
RECOMPUTE = "baseline: the full GROUP BY recomputation (`tallies.recompute`)"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (its database name is replaced per store)")
    parser.add_argument("--large", type=int, default=LARGE, help="contributions in the large store")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true", help="build the stores again")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # internal: time one store (a database URL)
    parser.add_argument("--build", help=argparse.SUPPRESS)  # internal: build one store
    parser.add_argument("--contributions", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


def store_url(server: str | None, contributions: int) -> str:
    name = f"{contributions // 1000}k"
    if server:
        return f"{server.rsplit('/', 1)[0]}/polyglot_contributors_{name}"
    return f"sqlite:///{WORK / 'contributors' / f'{name}.sqlite3'}"


def ensure_database(url: str) -> None:
    if not url.startswith("postgres"):
        return
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


# --- building a store (in its own process) ----------------------------------------------------------


def build(url: str, contributions: int, rebuild: bool) -> None:
    django_for(url, "contributors")
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import transaction

    from webapp.feedback.models import (
        Campaign,
        Contribution,
        ContributorTally,
        Language,
        Prompt,
        Task,
        Verdict,
    )
    from webapp.feedback.tallies import tally_rebuild

    call_command("migrate", verbosity=0, interactive=False)
    if not rebuild and Contribution.objects.count() == contributions and ContributorTally.objects.exists():
        log(f"{url.rsplit('/', 1)[1]}: {contributions:,} contributions already there, reused")
        return
    for model in (Verdict, Contribution, Task, Prompt, Campaign, ContributorTally):
        model.objects.all().delete()
    rng = random.Random(15)
    started = time.perf_counter()
    with transaction.atomic():
        for code in LANGUAGES:
            Language.objects.get_or_create(code=code, defaults={"name": code})
        people = [User.objects.get_or_create(username=f"contributor-{n:03d}")[0] for n in range(CONTRIBUTORS)]
        campaigns = {
            (code, kind): Campaign.objects.create(name=f"{kind} {code}", kind=kind, overlap=PER_TASK)
            for code in LANGUAGES
            for kind in ("write", "edit")
        }
        prompts = Prompt.objects.bulk_create(
            [
                Prompt(content=f"Prompt {n}", text=f"Prompt {n}", content_hash=f"h{n}", language_id=code)
                for n, code in enumerate(LANGUAGES * 50)
            ]
        )
        tasks = Task.objects.bulk_create(
            [
                Task(
                    campaign=campaigns[(prompt.language_id, kind)],
                    prompt=prompt,
                    language_id=prompt.language_id,
                    kind=kind,
                    annotation_count=PER_TASK,
                )
                for n in range(contributions // PER_TASK + 1)
                for prompt in [prompts[n % len(prompts)]]
                for kind in [("write", "edit")[n % 2]]
            ],
            batch_size=2000,
        )
        rows = []
        for n in range(contributions):
            task = tasks[n // PER_TASK]
            status = rng.choices(["accepted", "rejected", "pending"], weights=[60, 25, 15])[0]
            rows.append(
                Contribution(
                    task=task,
                    contributor=people[(n * 7 + n // PER_TASK) % CONTRIBUTORS],
                    kind=task.kind,
                    language_id=task.language_id,
                    content="text",
                    status=status,
                    edit_distance=rng.randint(5, 400) if task.kind == "edit" else None,
                )
            )
        made = Contribution.objects.bulk_create(rows, batch_size=2000)
        votes = []
        for contribution in made:
            if contribution.status == "pending":
                continue
            for voter in rng.sample(people, VOTES):
                if voter.pk != contribution.contributor_id:
                    votes.append(Verdict(contribution=contribution, voter=voter, up=rng.random() < 0.65))
        Verdict.objects.bulk_create(votes, batch_size=2000)
    log(
        f"built {url.rsplit('/', 1)[1]}: {len(made):,} contributions, {len(votes):,} votes "
        f"in {time.perf_counter() - started:.0f} s"
    )
    started = time.perf_counter()
    keys = tally_rebuild()
    log(f"tallies filled (the full recomputation): {keys:,} keys in {time.perf_counter() - started:.2f} s")


# --- timing one store (in its own process) -----------------------------------------------------------


def measure(url: str, repeat: int) -> dict[str, list[float]]:
    django_for(url, "contributors")
    from django.contrib.auth.models import User
    from django.test import Client

    from webapp.feedback.models import Contribution, Task

    staff, _created = User.objects.get_or_create(username="bench-staff", defaults={"is_staff": True})
    if not staff.is_staff:
        User.objects.filter(pk=staff.pk).update(is_staff=True)
        staff.refresh_from_db()
    client = Client()
    client.force_login(staff)
    times: dict[str, list[float]] = {}
    # A contributor with their history (about contributions / CONTRIBUTORS of them), on a task they did not write.
    author = User.objects.get(username="contributor-000")
    task = Task.objects.filter(kind="write").exclude(contributions__contributor=author).order_by("pk").first()
    for name, path in ENDPOINTS:
        reply = client.get(path)  # warm-up
        if reply.status_code >= 400:
            raise SystemExit(f"{name}: {reply.status_code} {reply.content[:300]!r}")
        for _ in range(repeat):
            started = time.perf_counter()
            client.get(path)
            times.setdefault(name, []).append(time.perf_counter() - started)
        for _ in range(repeat):  # a new contribution: its marker is folded by the read
            made = Contribution.objects.create(
                task=task, contributor=author, kind="write", language_id=task.language_id, content="new"
            )
            started = time.perf_counter()
            client.get(path)
            times.setdefault(f"{name}, {AFTER}", []).append(time.perf_counter() - started)
            made.delete()
            client.get(path)  # its deletion folded, untimed
    from webapp.feedback.tallies import recompute

    for _ in range(repeat):  # the baseline: the full recomputation each read made before the tallies
        started = time.perf_counter()
        recompute()
        times.setdefault(RECOMPUTE, []).append(time.perf_counter() - started)
    return times


def main() -> None:
    args = parse_args()
    if args.build:
        build(args.build, args.contributions, args.rebuild)
        return
    if args.measure:
        print("RESULT " + json.dumps(measure(args.measure, args.repeat)))
        return
    sizes = {"small": SMALL, "large": args.large}
    urls = {label: store_url(args.database_url, n) for label, n in sizes.items()}
    for label, n in sizes.items():
        ensure_database(urls[label])
        command = [sys.executable, __file__, "--build", urls[label], "--contributions", str(n)]
        subprocess.run([*command, *(["--rebuild"] if args.rebuild else [])], check=True)
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
            for name, values in json.loads(out.split("RESULT ", 1)[1]).items():
                collected[label].setdefault(name, []).extend(values)
            loads.append(load)
            log(f"round {round_no + 1}, {label} store ({sizes[label]:,} contributions): timed; load {load:.1f}")
    rows = []
    for name in [n for n, _path in ENDPOINTS] + [f"{n}, {AFTER}" for n, _path in ENDPOINTS] + [RECOMPUTE]:
        small, big = collected["small"][name], collected["large"][name]
        rows.append(
            [
                name,
                f"{statistics.median(small) * 1000:,.1f}",
                f"{p95(small) * 1000:,.1f}",
                f"{statistics.median(big) * 1000:,.1f}",
                f"{p95(big) * 1000:,.1f}",
                f"{statistics.median(big) / statistics.median(small):.2f}",
                f"{p95(big) / p95(small):.2f}",
            ]
        )
    large = args.large // 1000
    columns = [
        "request",
        "p50 ms, 10k",
        "p95 ms, 10k",
        f"p50 ms, {large:,}k",
        f"p95 ms, {large:,}k",
        "p50 ratio",
        "p95 ratio",
    ]
    engine = "PostgreSQL" if args.database_url else "SQLite"
    title = (
        f"Contributor figures at {SMALL:,} vs {args.large:,} contributions ({engine}, {CONTRIBUTORS} contributors × "
        f"{len(LANGUAGES)} languages, {args.rounds} interleaved rounds × {args.repeat}; load average "
        f"{min(loads):.1f}–{max(loads):.1f}; goal: ratio ≤ 1.5)"
    )
    write_text(f"{title}\n\n" + markdown_table(columns, rows), WORK / "contributors.md")


if __name__ == "__main__":
    main()
