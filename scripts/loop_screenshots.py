"""Screenshots of the loop for the README, taken from a running app after `make demo-loop`:

    .venv/bin/python scripts/loop_screenshots.py --password ADMIN_PASSWORD [--url http://127.0.0.1:8000]

Writes docs/img/loop-home.png (where the loop stands), loop-variant.png (the second DPO variant:
lineage, data by source, evaluation, arena standing), loop-review.png (the consistency table) and
arena-leaderboard.png."""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "img"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", required=True)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from playwright.sync_api import sync_playwright

    from tests.e2e.server_process import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(f"{args.url}/accounts/login/")
        page.fill("#id_username", args.username)
        page.fill("#id_password", args.password)
        page.click("main button[type=submit]")
        page.goto(f"{args.url}/")
        page.screenshot(path=str(OUT / "loop-home.png"), full_page=True)
        page.goto(f"{args.url}/models/")
        newest = page.locator("#variants tbody tr a").last.get_attribute("href")
        page.goto(f"{args.url}{newest}")
        page.screenshot(path=str(OUT / "loop-variant.png"), full_page=True)
        page.goto(f"{args.url}/review/")
        page.locator("#consistency-heading").scroll_into_view_if_needed()
        page.screenshot(path=str(OUT / "loop-review.png"))
        page.goto(f"{args.url}/arena/")
        page.get_by_role("tab", name="Leaderboard").click()
        page.wait_for_timeout(3000)
        page.screenshot(path=str(OUT / "arena-leaderboard.png"), full_page=True)
        browser.close()
    print(f"wrote loop screenshots to {OUT}")


if __name__ == "__main__":
    main()
