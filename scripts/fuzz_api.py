"""`make fuzz`: schemathesis over the whole REST API, against the app's own OpenAPI schema (/api/schema/),
once with a staff user's token and once with an annotator's, every check enabled (`--checks all`: no 5xx, every
status code, content type, header and body as the schema documents them, invalid data refused, valid data
accepted, authentication enforced, ...), with a fixed seed and a bounded number of examples per operation.

The server is the real web process (uvicorn, webapp.asgi, as `make run` starts it) on a fresh SQLite database
under a temporary VAR_DIR, seeded with the demo data, and with NO Celery workers: a fuzzed launch (training,
generation, install, import, export, index rebuild) only writes its job row and a message to the filesystem
broker, which nobody reads.

    .venv/bin/python scripts/fuzz_api.py [--max-examples 20] [--seed 20240601] [--role staff] [--keep]

Exits non-zero when either run finds a failure; schemathesis prints each one with a curl command that
reproduces it (against a server you start the same way; `--keep` keeps the temporary folder and its database).
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from webapp.embedded import commands  # noqa: E402  (sets nothing of Django up)

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CONFIG = ROOT / "scripts" / "fuzz_api.toml"  # per-operation settings, each with its reason
ROLES = ("staff", "annotator")
ANNOTATOR_LANGUAGES = ["en", "de", "ar", "zh-Hans"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(var_dir: Path) -> dict[str, str]:
    """A private database, broker folder and model store; nothing of the checkout's var/ is touched."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "INFERENCE_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="webapp.settings",
        VAR_DIR=str(var_dir),
        MODELS_STORE=str(var_dir / "models_store"),
        DATABASE_URL=f"sqlite:///{var_dir / 'db.sqlite3'}",
        CELERY_BROKER_URL="filesystem://",
        DEBUG="false",
        LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "scripts"), str(ROOT), env.get("PYTHONPATH")])),
        SCHEMATHESIS_HOOKS="fuzz_hooks",
    )
    return env


def seed(env: dict[str, str]) -> dict[str, str]:
    """Migrate, seed the demo, and create the two users; their tokens, by role."""
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "seed_demo"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    out = subprocess.run(
        [sys.executable, __file__, "--seed-users"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def seed_users() -> None:
    """(In the child process, with the private environment.) A staff user and an annotator of
    ANNOTATOR_LANGUAGES, each with an API token, printed as JSON. Their passwords are unusable, so no fuzzed
    `POST /api/v1/auth/token/` can rotate (revoke) the tokens the runs use. Also rows the demo lacks, so that
    ids 1-5 name something for the hooks (fuzz_hooks.py): a servable base variant (its folder is marked
    complete; nothing ever loads it: no worker, no arena battle), training and install jobs (queued ones to
    cancel, failed ones to retry) and exports, a finished one with its file (the download streams it) and queued
    ones."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User

    from webapp.accounts.services import token_issue
    from webapp.feedback.models import TransferJob, TransferKind
    from webapp.feedback.services.catalog import annotator_set_languages
    from webapp.jobs.models import JobStatus
    from webapp.modelstore.models import ModelJob, ModelJobKind, ModelVariant, VariantKind, VariantStatus
    from webapp.permissions import ANNOTATOR, role_group
    from webapp.training.models import TrainingJob

    staff = User.objects.create_user(username="fuzz-staff", password=None, is_staff=True)
    annotator = User.objects.create_user(username="fuzz-annotator", password=None)
    annotator.groups.add(role_group(ANNOTATOR))
    annotator_set_languages(user=annotator, languages=ANNOTATOR_LANGUAGES)

    folder = Path(settings.MODELS_STORE) / "base" / "fuzz-base"
    folder.mkdir(parents=True)
    (folder / ".complete").touch()
    base = ModelVariant.objects.create(
        name="fuzz-base", kind=VariantKind.BASE, status=VariantStatus.READY, path="base/fuzz-base", source="fuzz"
    )
    for status in (JobStatus.QUEUED, JobStatus.FAILED, JobStatus.QUEUED, JobStatus.FAILED, JobStatus.QUEUED):
        TrainingJob.objects.create(kind="dpo", parent=base, status=status)
        ModelJob.objects.create(kind=ModelJobKind.INSTALL, status=status, params={"source": "fuzz"})
    export = Path(settings.VAR_DIR) / "exports" / "export-fuzz.jsonl"
    export.parent.mkdir(parents=True, exist_ok=True)
    export.write_text('{"prompt": "Which is better?", "chosen": "This one.", "rejected": "That one."}\n')
    TransferJob.objects.create(kind=TransferKind.EXPORT, status="succeeded", path=str(export), params={})
    for n in range(4):
        TransferJob.objects.create(kind=TransferKind.EXPORT, path=str(export.with_name(f"queued-{n}.jsonl")), params={})
    print(json.dumps({"staff": token_issue(user=staff).key, "annotator": token_issue(user=annotator).key}))


def wait_for(url: str, server: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"no answer from {url} after {seconds:.0f} s")


def fuzz(role: str, token: str, base: str, args: argparse.Namespace, env: dict[str, str], report: Path) -> int:
    # No operation is excluded. Nothing a fuzzed request can do sabotages the run: the API has no endpoint that
    # deactivates or deletes users; POST /api/v1/auth/token/ rotates a token only for the right password, and
    # these users have none; django-axes' lockout counts wrong passwords, never tokens; deleted or edited demo
    # rows are only data. (The token stays valid for API_TOKEN_TTL_DAYS, 90 days.)
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(CONFIG),
        "run",
        f"{base}/api/schema/",
        "--url",
        base,
        "--checks",
        "all",
        "--seed",
        str(args.seed),
        "--max-examples",
        str(args.max_examples),
        "--generation-database",
        "none",
        # No text takes a NUL character: DRF's CharField and Django's form fields refuse it (400), as PostgreSQL's
        # text cannot store it. The schema does not repeat that on every string, so none is generated.
        "--generation-allow-x00",
        "false",
        "--header",
        f"Authorization: Token {token}",
        "--report",
        "junit",
        "--report-junit-path",
        str(report / f"{role}.xml"),
        "--no-color",
        *args.extra,
    ]
    print(f"\n== schemathesis as {role}", flush=True)
    started = time.monotonic()
    code = subprocess.run(command, cwd=report, env=env, check=False).returncode
    print(f"== {role}: exit {code} in {time.monotonic() - started:.0f} s", flush=True)
    return code


def main() -> int:
    if sys.argv[1:] == ["--seed-users"]:
        seed_users()
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-examples", type=int, default=20, help="test cases per operation and phase")
    parser.add_argument("--seed", type=int, default=20_240_601)
    parser.add_argument("--role", choices=ROLES, action="append", help="only this role (repeatable)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (database, reports)")
    parser.add_argument("extra", nargs="*", help="more schemathesis options, after --")
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="polyglot-fuzz-"))
    log = var_dir / "server.log"
    env = environment(var_dir)
    started = time.monotonic()
    server = None
    codes: dict[str, int] = {}
    try:
        tokens = seed(env)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        # The web process alone, as `make run` starts it (webapp/embedded.py), without its Celery workers.
        web = commands(port, str(var_dir))["web"]
        with log.open("w") as out:
            server = subprocess.Popen(web, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        wait_for(f"{base}/healthz", server)
        report = var_dir / "reports"
        report.mkdir()
        codes = {role: fuzz(role, tokens[role], base, args, env, report) for role in args.role or ROLES}
    finally:
        if server is not None and server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        if any(codes.values()) and log.exists():
            print("\n== the server's log, last lines:\n" + "\n".join(log.read_text().splitlines()[-40:]))
        if not args.keep:
            shutil.rmtree(var_dir, ignore_errors=True)
        else:
            print(f"kept {var_dir}")
    print(f"\n== make fuzz: {json.dumps(codes)} in {time.monotonic() - started:.0f} s")
    return 0 if not any(codes.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
