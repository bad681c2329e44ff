"""Annotation benchmark: 50 simulated annotators pull and submit tasks at once, over HTTP on loopback,
against the real ASGI app (uvicorn) on PostgreSQL. Run from the repository root:

    .venv/bin/python bench/annotate.py              # 50 annotators, 3 rounds of 10 s + 10 s
    .venv/bin/python bench/annotate.py --seconds 5 --annotators 20 --rounds 2

Each simulated annotator is a thread with its own keep-alive connection and API token; it loops
`POST /api/v1/tasks/next/` then `POST /api/v1/tasks/{id}/annotations/` (a random ranking with a tie
now and then) until time is up or no task is left. The baseline, measured in the same run with the
same number of threads and the same server, is `GET /healthz` (one `SELECT 1`): the ceiling of
this server for a request that touches the database. The ratio says what share of that ceiling one
annotation cycle's two requests reach.

The two are interleaved: `--rounds` rounds (default 3) of a healthz phase and then an annotation phase, each
`--seconds` long; the ratio is the median of the rounds' ratios, so a noisy neighbour hits both sides alike, and
the machine's load average is printed with them. Then, in this process and without the server, the CPU time one
cycle costs the app (time.process_time around Django's test client doing next + submit with a token, `--cpu-cycles`
cycles a round, median of five rounds): the part of a cycle that no database or network wait hides.

Afterwards the database is checked: no task holds more annotations than its campaign's overlap,
every submission the API accepted is stored exactly once, and each task's denormalised
annotation_count equals its real count. A failed check exits with status 1. The database is
BENCH_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/polyglot_bench (created when missing).
The table is printed and kept at var/bench/annotate.md. Nothing here is a timed assertion.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import write_table  # noqa: E402
from bench.store import (  # noqa: E402
    WORK,
    build_tasks,
    configure_environment,
    ensure_database,
    log,
    make_annotators,
    setup_django,
    truncate_feedback,
    vacuum_analyze,
)

OVERLAP = 3


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Concurrent annotators against the app on PostgreSQL.")
    parser.add_argument("--annotators", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each measured phase")
    parser.add_argument("--rounds", type=int, default=3, help="healthz and annotation phases, interleaved")
    parser.add_argument("--cpu-cycles", type=int, default=100, help="in-process cycles per CPU round")
    parser.add_argument("--tasks", type=int, default=5_000)
    parser.add_argument("--web-workers", type=int, default=2, help="uvicorn worker processes")
    return parser.parse_args()


def start_server(url: str, workers: int) -> tuple[subprocess.Popen, str]:
    from tests.e2e.server_process import free_port

    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "false", "VAR_DIR": str(WORK), "SEARCH_INDEX_ON_SAVE": "false"}
    # Several web workers: the layout the README prescribes for them, the arena forwarded to its own process (none
    # runs here: this benchmark sends no arena traffic), so the web workers pool their connections (DB_POOL_SIZE).
    env.setdefault("ARENA_URL", "http://127.0.0.1:9")
    log_file = (WORK / "annotate-uvicorn.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "webapp.asgi:application", "--host", "127.0.0.1", "--port", str(port)]
        + ["--workers", str(workers), "--no-access-log", "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"uvicorn did not start; see {WORK / 'annotate-uvicorn.log'}")


class Results:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: list[float] = []  # ms per cycle (next + submit), or per request for the baseline
        self.accepted: dict[tuple[str, int], list] = {}
        self.errors: list[str] = []
        self.exhausted = 0

        self.wall = 0.0

    def add(self, ms: float) -> None:
        with self.lock:
            self.latencies.append(ms)

    def merge(self, other: "Results", wall: float) -> None:
        self.latencies += other.latencies
        self.accepted.update(other.accepted)
        self.errors += other.errors
        self.exhausted += other.exhausted
        self.wall += wall


def random_ranking(rng: random.Random, n: int) -> list[list[int]]:
    positions = list(range(n))
    rng.shuffle(positions)
    if n > 2 and rng.random() < 0.2:
        return [positions[:2], *[[p] for p in positions[2:]]]
    return [[p] for p in positions]


def annotator_loop(base: str, token: str, name: str, until: float, results: Results, seed: int) -> None:
    import httpx

    rng = random.Random(seed)
    with httpx.Client(base_url=base, headers={"Authorization": f"Token {token}"}, timeout=30) as client:
        while time.perf_counter() < until:
            start = time.perf_counter()
            got = client.post("/api/v1/tasks/next/", json={})
            if got.status_code != 200:
                results.errors.append(f"next {got.status_code}: {got.text[:200]}")
                return
            task = got.json()["task"]
            if task is None:
                with results.lock:
                    results.exhausted += 1
                return
            ranking = random_ranking(rng, len(task["responses"]))
            reply = client.post(f"/api/v1/tasks/{task['id']}/annotations/", json={"ranking": ranking, "seconds": 5.0})
            if reply.status_code in (200, 201):
                with results.lock:
                    results.accepted[(name, task["id"])] = ranking
                results.add((time.perf_counter() - start) * 1000)
            else:
                results.errors.append(f"submit {reply.status_code}: {reply.text[:200]}")


def healthz_loop(base: str, until: float, results: Results) -> None:
    import httpx

    with httpx.Client(base_url=base, timeout=30) as client:
        while time.perf_counter() < until:
            start = time.perf_counter()
            if client.get("/healthz").status_code == 200:
                results.add((time.perf_counter() - start) * 1000)


def run_threads(targets: list, seconds: float) -> float:
    threads = [threading.Thread(target=target, args=args) for target, args in targets]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    return time.perf_counter() - start


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 20 else max(values, default=0.0)


def check_database(results: Results) -> list[str]:
    from django.db.models import Count, F

    from webapp.feedback.models import Annotation, Task

    problems = []
    over = Task.objects.annotate(n=Count("annotations")).filter(n__gt=OVERLAP).count()
    if over:
        problems.append(f"{over} tasks hold more than {OVERLAP} annotations")
    drift = Task.objects.annotate(n=Count("annotations")).exclude(n=F("annotation_count")).count()
    if drift:
        problems.append(f"{drift} tasks have annotation_count different from their annotations")
    stored = {(a.annotator.username, a.task_id): a.ranking for a in Annotation.objects.select_related("annotator")}
    lost = [key for key, ranking in results.accepted.items() if stored.get(key) != ranking]
    if lost:
        problems.append(f"{len(lost)} accepted submissions are not stored as sent, e.g. {lost[:3]}")
    extra = set(stored) - set(results.accepted)
    if extra:
        problems.append(f"{len(extra)} stored annotations were never accepted, e.g. {sorted(extra)[:3]}")
    return problems


def cpu_per_cycle(tokens: dict[str, str], cycles: int, rounds: int = 5) -> float:
    """Median over `rounds` of the CPU milliseconds one next + submit costs this process through Django's test
    client with a token (database waits excluded: process_time counts this process's CPU only)."""
    from rest_framework.test import APIClient

    clients = []
    for token in tokens.values():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        clients.append(client)
    rng, per_round = random.Random(11), []
    for round_no in range(rounds + 1):  # the first round warms up and is not counted
        spent = 0.0
        for i in range(cycles):
            client = clients[(round_no * cycles + i) % len(clients)]
            start = time.process_time()
            task = client.post("/api/v1/tasks/next/", {}, format="json").json()["task"]
            if task is None:
                raise SystemExit("the in-process CPU rounds ran out of tasks: raise --tasks")
            ranking = random_ranking(rng, len(task["responses"]))
            reply = client.post(f"/api/v1/tasks/{task['id']}/annotations/", {"ranking": ranking}, format="json")
            spent += time.process_time() - start
            if reply.status_code != 201:
                raise SystemExit(f"in-process submit {reply.status_code}: {reply.content[:200]!r}")
        if round_no:
            per_round.append(spent * 1000 / cycles)
    return statistics.median(per_round)


def main() -> None:
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    args = parse_args()
    url = configure_environment()
    ensure_database(url)
    setup_django(migrate=True)
    from rest_framework.authtoken.models import Token

    from webapp.feedback.services import catalog

    log("preparing tasks and annotators")
    truncate_feedback()
    campaign = catalog.campaign_create(name="bench-annotate", languages=["en"], overlap=OVERLAP)
    build_tasks(campaign, args.tasks)
    users = make_annotators(args.annotators)
    tokens = {user.username: Token.objects.get_or_create(user=user)[0].key for user in users}
    vacuum_analyze()
    proc, base = start_server(url, args.web_workers)
    baseline, ours, ratios = Results(), Results(), []
    try:
        for round_no in range(args.rounds):
            log(f"round {round_no + 1}: {args.annotators} threads on GET /healthz for {args.seconds:.0f} s")
            health = Results()
            until = time.perf_counter() + args.seconds
            base_wall = run_threads([(healthz_loop, (base, until, health))] * args.annotators, args.seconds)
            log(f"round {round_no + 1}: {args.annotators} annotators pulling and submitting for {args.seconds:.0f} s")
            cycles = Results()
            until = time.perf_counter() + args.seconds
            targets = [
                (annotator_loop, (base, token, name, until, cycles, seed))
                for seed, (name, token) in enumerate(tokens.items(), start=round_no * args.annotators)
            ]
            wall = run_threads(targets, args.seconds)
            ratios.append((len(cycles.latencies) / wall) / max(len(health.latencies) / base_wall, 1e-9))
            baseline.merge(health, base_wall)
            ours.merge(cycles, wall)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    load = os.getloadavg()
    problems = check_database(ours) + [f"{len(ours.errors)} failed requests, e.g. {ours.errors[:2]}"] * bool(
        ours.errors
    )
    log(f"in-process CPU: 5 rounds of {args.cpu_cycles} cycles through the test client")
    cpu_ms = cpu_per_cycle(tokens, args.cpu_cycles)
    rows = [
        (
            "throughput (annotation cycles/s vs healthz requests/s)",
            len(ours.latencies) / ours.wall,
            len(baseline.latencies) / baseline.wall,
        ),
        ("ratio of the rates, median of the rounds", statistics.median(ratios), 1.0),
        (
            "p50 latency, ms (cycle = next + submit)",
            statistics.median(ours.latencies),
            statistics.median(baseline.latencies),
        ),
        ("p95 latency, ms", p95(ours.latencies), p95(baseline.latencies)),
        ("CPU per cycle in-process, ms (median of 5 rounds)", cpu_ms, float("nan")),
    ]
    title = (
        f"bench/annotate.py: {args.annotators} concurrent annotators, {args.rounds} interleaved rounds of "
        f"{args.seconds:.0f} s healthz + {args.seconds:.0f} s annotating, {args.tasks:,} tasks "
        f"(overlap {OVERLAP}), uvicorn x{args.web_workers} on PostgreSQL, {os.cpu_count()} cores, "
        f"load average {load[0]:.1f} / {load[1]:.1f}; round ratios {', '.join(f'{r:.2f}' for r in ratios)}; "
        f"{len(ours.latencies):,} annotations accepted, {ours.exhausted} annotators ran out of tasks; "
        f"checks: {'all passed' if not problems else '; '.join(problems)}"
    )
    write_table(title, rows, WORK / "annotate.md")
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
