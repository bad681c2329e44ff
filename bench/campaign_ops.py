"""Bulk operations on a large campaign (PostgreSQL): how fast the gold, reassign and delete jobs go, and
what they cost the annotators working in that campaign at the same time. Run from the repository root:

    .venv/bin/python bench/campaign_ops.py            # 100,000 tasks (a few minutes)
    .venv/bin/python bench/campaign_ops.py --quick    # 20,000 tasks

The database is BENCH_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/polyglot_bench (created when
missing, migrated, its feedback tables truncated). Each job runs in-process as a worker would
(`operation_run`), while ANNOTATORS threads keep doing `tasks_next` + `annotation_submit` in the same
campaign (for the delete: in another campaign, since the deleted one leaves their queue at launch); their
cycle latency during each job is compared with the same annotators' latency measured just before, with no job
running (ratio = during / idle; medians and p95 over every cycle). The load average is
printed with each figure. The annotators are threads of this process, so part of a slowdown during a job is
the job's share of the interpreter (the GIL), not a lock it holds: the max column shows no cycle waited long.
This is a measurement, not a test: nothing fails on a slow number.
"""

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.store import (  # noqa: E402
    WORK,
    configure_environment,
    ensure_database,
    log,
    setup_django,
    truncate_feedback,
    vacuum_analyze,
)

ANNOTATORS = 4
IDLE_SECONDS = 8


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 tasks instead of 100,000")
    parser.add_argument("--tasks", type=int, help="number of tasks (overrides --quick)")
    return parser.parse_args()


def build(n: int) -> tuple:
    from webapp.feedback.services import catalog
    from webapp.feedback.services.importing import feedback_import

    truncate_feedback()
    source = catalog.campaign_create(name="Ops", guidelines="", languages=["de"], overlap=3)
    target = catalog.campaign_create(name="Target", guidelines="", languages=["de"], overlap=3)
    catalog.campaign_create(name="Live", guidelines="", languages=["de"], overlap=3)
    path = WORK / "campaign_ops.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            line = {
                "id": f"ops-{i}",
                "prompt": f"Frage Nummer {i}: wie erklärt man das am besten?",
                "language": "de",
                "campaign": "Ops" if i % 10 else "Live",  # a tenth in Live, where annotators work during the delete
                "responses": [{"text": f"Antwort A zu {i}"}, {"text": f"Antwort B zu {i}"}, {"text": f"C {i}"}],
            }
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    started = time.perf_counter()
    report = feedback_import(path=path)
    log(f"imported {report.tasks_created:,} tasks in {time.perf_counter() - started:.1f} s")
    path.unlink()
    vacuum_analyze()
    return source, target


def annotators() -> list:
    from django.contrib.auth.models import User

    from webapp.feedback.services.catalog import annotator_set_languages
    from webapp.permissions import ANNOTATOR, role_group

    users = []
    for i in range(ANNOTATORS):
        user, _created = User.objects.get_or_create(username=f"ops-annotator-{i}")
        user.groups.add(role_group(ANNOTATOR))
        annotator_set_languages(user=user, languages=["de"])
        users.append(user)
    return users


class Cycles(threading.Thread):
    """One annotator taking and submitting tasks until stopped; the latency of each cycle."""

    def __init__(self, user, stop: threading.Event, campaign_id: int):
        super().__init__(daemon=True)
        self.user, self.stop, self.campaign_id, self.latencies = user, stop, campaign_id, []

    def run(self) -> None:
        from django.db import connection

        from webapp.errors import ApplicationError
        from webapp.feedback.services.assignment import annotation_submit, tasks_next

        try:
            while not self.stop.is_set():
                started = time.perf_counter()
                assignment = tasks_next(user=self.user, campaign_id=self.campaign_id)
                if assignment is None:
                    time.sleep(0.05)
                    continue
                try:
                    annotation_submit(user=self.user, task_id=assignment.task.pk, ranking=[[0], [1], [2]])
                except ApplicationError:
                    pass  # the task left the campaign or was deleted under us: a real annotator sees this too
                self.latencies.append(time.perf_counter() - started)
        finally:
            connection.close()


def with_annotators(users, campaign_id: int, work) -> tuple[list[float], float]:
    """Run `work` (or sleep IDLE_SECONDS when None) while the annotators cycle in one campaign; their
    latencies, the seconds."""
    stop = threading.Event()
    threads = [Cycles(user, stop, campaign_id) for user in users]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    if work is None:
        time.sleep(IDLE_SECONDS)
    else:
        work()
    seconds = time.perf_counter() - started
    stop.set()
    for thread in threads:
        thread.join()
    return [latency for thread in threads for latency in thread.latencies], seconds


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 20 else max(values, default=0.0)


def launch_and_run(campaign, kind: str, params: dict):
    from webapp.feedback.models import CampaignJob
    from webapp.feedback.services import operations

    job = operations.operation_launch(campaign=campaign, kind=kind, params=params, user=None)
    operations.operation_run(job.pk)
    job = CampaignJob.objects.get(pk=job.pk)
    if job.status != "succeeded":
        raise SystemExit(f"{kind} job {job.pk}: {job.status} {job.error}")
    return job


def main() -> None:
    args = parse_args()
    n = args.tasks or (20_000 if args.quick else 100_000)
    url = configure_environment()
    ensure_database(url)
    setup_django(migrate=True)
    from webapp.feedback.models import Campaign, Task

    source, target = build(n)
    users = annotators()
    rows = []

    def measure(name: str, where, work, rows_done) -> None:
        idle, _ = with_annotators(users, where.pk, None)
        load_before = os.getloadavg()[0]
        during, seconds = with_annotators(users, where.pk, work)
        rows.append(
            {
                "operation": name,
                "annotators_in": where.name,
                "rows": rows_done(),
                "seconds": seconds,
                "rows_per_s": rows_done() / seconds if seconds else 0.0,
                "idle_p50_ms": statistics.median(idle) * 1000,
                "idle_p95_ms": p95(idle) * 1000,
                "during_p50_ms": statistics.median(during) * 1000 if during else 0.0,
                "during_p95_ms": p95(during) * 1000,
                "during_max_ms": max(during, default=0.0) * 1000,
                "ratio_p95": p95(during) / p95(idle) if idle and during else float("nan"),
                "cycles_during": len(during),
                "load": (load_before + os.getloadavg()[0]) / 2,
            }
        )
        log(json.dumps(rows[-1]))

    ids = list(Task.objects.filter(campaign=source).values_list("external_id", flat=True))
    items = [{"external_id": ext, "position": i % 3} for i, ext in enumerate(ids)]
    measure("gold (every task)", source, lambda: launch_and_run(source, "gold", {"items": items}), lambda: len(items))
    moved = {}

    def reassign():
        moved["job"] = launch_and_run(source, "reassign", {"to_campaign": target.pk})

    measure("reassign (open tasks)", source, reassign, lambda: moved["job"].result["tasks_moved"] if moved else 0)
    deleted = {}

    def delete():
        deleted["job"] = launch_and_run(target, "delete", {})

    live = Campaign.objects.get(name="Live")
    measure("delete (its tasks)", live, delete, lambda: deleted["job"].result["tasks_deleted"] if deleted else 0)

    header = (
        "| operation | annotators in | rows | s | rows/s | cycle p50 idle → during (ms) | cycle p95 idle → during (ms) "
        "| p95 ratio | max during (ms) | load |"
    )
    lines = [header, "|---|---|---:|---:|---:|---|---|---:|---:|---:|"]
    for row in rows:
        lines.append(
            f"| {row['operation']} | {row['annotators_in']} | {row['rows']:,} | {row['seconds']:.1f} "
            f"| {row['rows_per_s']:,.0f} "
            f"| {row['idle_p50_ms']:.0f} → {row['during_p50_ms']:.0f} | {row['idle_p95_ms']:.0f} → "
            f"{row['during_p95_ms']:.0f} | {row['ratio_p95']:.2f} | {row['during_max_ms']:.0f} | {row['load']:.1f} |"
        )
    table = "\n".join(lines)
    (WORK / "campaign_ops.md").write_text(table + "\n", encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
