"""Screenshots for the README, taken from the real app on the seeded demo data:

    .venv/bin/python scripts/screenshots.py

Builds a fresh database under var/screenshots/, seeds the demo, starts uvicorn on a free loopback
port and drives Debian's Chromium: the ranking page as a demo annotator (one card moved, one tie) and
the review page as staff. Writes docs/img/annotate.png and docs/img/review.png."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "screenshots"
OUT = ROOT / "docs" / "img"
ANNOTATOR = "demo-annotator-2"
PASSWORD = "screenshot-Pa55word"


def manage(*args: str, env: dict) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def main() -> None:
    shutil.rmtree(VAR, ignore_errors=True)
    VAR.mkdir(parents=True)
    env = {**os.environ, "VAR_DIR": str(VAR), "DATABASE_URL": f"sqlite:///{VAR / 'db.sqlite3'}", "DEBUG": "true"}
    env.pop("CELERY_BROKER_URL", None)
    manage("migrate", "--no-input", "-v0", env=env)
    manage("seed_demo", env=env)
    script = (
        "from django.contrib.auth.models import User\n"
        f"u = User.objects.get(username='{ANNOTATOR}'); u.set_password('{PASSWORD}'); u.save()\n"
        f"User.objects.create_user('screenshot-staff', password='{PASSWORD}', is_staff=True)\n"
    )
    manage("shell", "-c", script, env=env)
    sys.path.insert(0, str(ROOT))
    from tests.e2e.server_process import CHROMIUM, CHROMIUM_ARGS, free_port

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "webapp.asgi:application", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 1000})
            page.wait_for_timeout(3000)
            login(page, base, ANNOTATOR)
            page.wait_for_selector("#ranking .card")
            page.keyboard.press("ArrowDown")
            page.keyboard.press("1")
            page.keyboard.press("ArrowDown")
            page.keyboard.press("t")
            page.fill("#rationale", "Both top answers are correct; the first is clearer.")
            page.screenshot(path=str(OUT / "annotate.png"), full_page=True)
            page.click("header button:text('Log out')")
            login(page, base, "screenshot-staff")
            page.goto(f"{base}/review/")
            page.screenshot(path=str(OUT / "review.png"), full_page=False)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"wrote {OUT / 'annotate.png'} and {OUT / 'review.png'}")


def login(page, base: str, username: str) -> None:
    for _ in range(30):
        try:
            page.goto(f"{base}/accounts/login/")
            break
        except Exception:  # the server is still starting
            page.wait_for_timeout(1000)
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")


if __name__ == "__main__":
    main()
