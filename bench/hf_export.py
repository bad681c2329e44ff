"""Hugging Face export benchmark (issue 18, item 2): peak memory of `export_feedback --format hf` at N/10 and N
imported pairs, each export in a fresh process, so "memory stays flat whatever the size" is a number.
Run from the repository root:

    .venv/bin/python bench/hf_export.py --quick     # 2k and 20k pairs (a minute)
    .venv/bin/python bench/hf_export.py             # 10k and 100k pairs

SQLite databases under var/bench/ (one per size, removed at the end, as are the folders written). Figures: rows
written (pairs, dpo and sft: three per pair), seconds, RSS before the export and the peak (VmHWM) of the
exporting process, and the peak's growth from N/10 to N. A measurement: nothing fails on a slow number.
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.store import log, make_pair, memory_kib, sentence_pool  # noqa: E402

WORK = ROOT / "var" / "bench"
LANGUAGES = ("en", "de", "fr", "es", "ru", "ar", "he", "zh-Hans", "ja")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2k and 20k pairs instead of 10k and 100k")
    parser.add_argument("--child", nargs=2, metavar=("WHAT", "N"), help=argparse.SUPPRESS)
    return parser.parse_args()


def setup_django(n: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    os.environ.update(
        DATABASE_URL=f"sqlite:///{WORK / f'hf_export-{n}.sqlite3'}",
        VAR_DIR=str(WORK),
        DEBUG="false",
        SEARCH_INDEX_ON_SAVE="false",
    )
    import django

    django.setup()


def prepare(n: int) -> dict:
    """Migrate a fresh database and import n pairs (9 languages, translation groups)."""
    from django.core.management import call_command

    from webapp.feedback.services.importing import feedback_import

    call_command("migrate", verbosity=0, interactive=False)
    rng = random.Random(20261203)
    pools = {code: sentence_pool(rng, code) for code in LANGUAGES}
    path = WORK / f"hf-pairs-{n}.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            handle.write(json.dumps(make_pair(rng, pools, i), ensure_ascii=False) + "\n")
    report = feedback_import(path=path)
    path.unlink()
    return {"pairs": report.pairs_created}


def export(n: int) -> dict:
    from webapp.feedback.formats.exporting import ExportSpec, feedback_export

    out = WORK / f"hf-out-{n}"
    shutil.rmtree(out, ignore_errors=True)
    before = memory_kib("VmRSS")
    start = time.perf_counter()
    rows = feedback_export(spec=ExportSpec("hf"), out=out)
    seconds = time.perf_counter() - start
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    shutil.rmtree(out)
    return {"rows": rows, "seconds": seconds, "setup_kib": before, "peak_kib": memory_kib("VmHWM"), "bytes": size}


def in_child(what: str, n: int) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", what, str(n)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"child {what} {n} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    args = parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    if args.child:
        what, n = args.child[0], int(args.child[1])
        setup_django(n)
        print(json.dumps(prepare(n) if what == "prepare" else export(n)))
        return
    sizes = (2_000, 20_000) if args.quick else (10_000, 100_000)
    results = {}
    try:
        for n in sizes:
            log(f"importing {n:,} pairs into a fresh SQLite database")
            in_child("prepare", n)
            results[n] = result = in_child("export", n)
            log(
                f"hf export of {n:,} pairs: {result['rows']:,} rows in {result['seconds']:.1f} s "
                f"({result['bytes'] / 2**20:.1f} MiB of Parquet); RSS {result['setup_kib'] / 1024:.0f} MiB before, "
                f"peak {result['peak_kib'] / 1024:.0f} MiB"
            )
    finally:
        for n in sizes:
            (WORK / f"hf_export-{n}.sqlite3").unlink(missing_ok=True)
    small, large = (results[n] for n in sizes)
    growth = (large["peak_kib"] - large["setup_kib"]) / max(1, small["peak_kib"] - small["setup_kib"])
    log(
        f"{sizes[1] // sizes[0]}x the rows: peak {large['peak_kib'] / 1024:.0f} vs {small['peak_kib'] / 1024:.0f} MiB; "
        f"the export's own growth above its start {growth:.2f}x"
    )


if __name__ == "__main__":
    main()
