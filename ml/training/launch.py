"""Choosing how a training run is launched: in this process on one device, or under torchrun with one
process per GPU when the host has several (the Trainer inside then uses DDP).

The launched processes report to this one over stdout (one JSON event per line from process zero);
a stop request is a STOP file that process zero reads and shares with the others; the outcome comes
back as outcome.json. `python -m ml.training.launch --worker CONFIG` is the per-process entry. The
caller's `should_stop()` is watched by a thread while the processes run (they may be loading a model
and print nothing for a while): it writes the STOP file too."""

import argparse
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from ml.training.config import Hyperparameters, TrainingConfig
from ml.training.evaluate import never
from ml.training.runner import Event, Outcome, main

EVENT = "@@event "


def gpu_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def run_training(
    config: TrainingConfig, on_progress: Callable[[Event], bool], should_stop: Callable[[], bool] = never
) -> Outcome:
    processes = gpu_count()
    if processes > 1:
        return run_distributed(config, on_progress, processes, should_stop)
    return main(config, on_progress, should_stop)


def run_distributed(
    config: TrainingConfig,
    on_progress: Callable[[Event], bool],
    processes: int,
    should_stop: Callable[[], bool] = never,
) -> Outcome:
    folder = Path(config.output_dir) / "launch"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in ("STOP", "outcome.json"):
        (folder / stale).unlink(missing_ok=True)
    (folder / "config.json").write_text(json.dumps(asdict(config)))
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={processes}",
        "-m",
        "ml.training.launch",
        "--worker",
        str(folder / "config.json"),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    finished = threading.Event()

    def watch() -> None:
        while not finished.wait(0.5):
            if should_stop():
                (folder / "STOP").touch()
                return

    threading.Thread(target=watch, daemon=True, name="training-stop-watch").start()
    try:
        assert process.stdout is not None  # stdout=PIPE
        for line in process.stdout:
            if line.startswith(EVENT) and not on_progress(Event(**json.loads(line[len(EVENT) :]))):
                (folder / "STOP").touch()
        if process.wait():
            raise RuntimeError(f"the training processes exited with status {process.returncode}")
    finally:
        finished.set()
        if process.poll() is None:
            process.kill()
            process.wait()
    return Outcome(**json.loads((folder / "outcome.json").read_text()))


def worker(config_path: Path) -> None:
    values = json.loads(config_path.read_text())
    config = TrainingConfig(**{**values, "hp": Hyperparameters.from_dict(values["hp"])})
    stop = config_path.parent / "STOP"
    zero = int(os.environ.get("RANK", "0")) == 0

    def report(event: Event) -> bool:
        print(EVENT + json.dumps(asdict(event)), flush=True)
        return not stop.exists()

    outcome = main(config, report, should_stop=stop.exists)
    if zero:
        tmp = config_path.parent / "outcome.json.partial"
        tmp.write_text(json.dumps(asdict(outcome)))
        tmp.replace(config_path.parent / "outcome.json")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", type=Path, required=True)
    worker(parser.parse_args().worker)
