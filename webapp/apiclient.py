"""A client's side of our own REST API, for the scripted stories that drive the app as a user would
(`play_loop`, `prove_loop`): one call that turns an error answer into an exception naming the request, and one
wait for a job row to finish."""

import time
from collections.abc import Callable
from typing import Any

import httpx


class ApiStoryError(RuntimeError):
    """A step of a scripted story did not connect; the message says which and why."""


def api_call(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    error: type[ApiStoryError] = ApiStoryError,
    shown: int = 800,
    **kwargs: Any,
) -> Any:
    """The answer's JSON (its text when it is not JSON; None when it is empty); `error` for a 4xx or 5xx,
    with the first `shown` characters of the body."""
    reply = client.request(method, url, **kwargs)
    if reply.status_code >= 400:
        raise error(f"{method} {url} answered {reply.status_code}: {reply.text[:shown]}")
    if not reply.content:
        return None
    if reply.headers.get("content-type", "").split(";")[0].strip() == "application/json":
        return reply.json()
    return reply.text


def wait_for_job(
    fetch: Callable[[], dict],
    what: str,
    *,
    timeout: float,
    interval: float = 1.0,
    say: Callable[[str], None] | None = None,
    error: type[ApiStoryError] = ApiStoryError,
    hint: str = "is a worker running?",
) -> dict:
    """Poll a job row (`fetch` returns it as the API does) until it succeeds; `error` when it fails, is
    cancelled or is still running after `timeout` seconds. `say` narrates each change of status or progress."""
    deadline = time.monotonic() + timeout
    shown = None
    while True:
        row = fetch()
        progress = (row["status"], row.get("progress_done"), row.get("progress_total"))
        if say is not None and progress != shown:
            shown = progress
            say(f"   {what}: {row['status']} {row.get('progress_done') or 0}/{row.get('progress_total') or 0}")
        if row["status"] == "succeeded":
            return row
        if row["status"] in ("failed", "cancelled"):
            raise error(f"{what} {row['status']}: {row.get('error') or (row.get('log') or '')[-800:]}")
        if time.monotonic() > deadline:
            raise error(f"{what} did not finish in {timeout:.0f} s ({hint})")
        time.sleep(interval)
