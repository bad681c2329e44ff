"""The scale-out layout end to end (README, "Scaling out"): the arena as its own process
(`webapp.arena_asgi`), the site's root under `uvicorn --workers 2` with ARENA_URL pointing at it, and
`gradio_client` talking to the root's /arena/. With Gradio mounted in each of two workers, a call whose queue
join and result stream landed in different processes failed (5 of 16), while the vote it had sent was stored;
through the proxy every call reaches the one Gradio queue. Answers stream from tiny models."""

import threading
import urllib.error
import urllib.request
from collections import Counter
from email.message import Message
from pathlib import Path

import pytest
from gradio_client import Client

from tests.e2e.server_process import ServerProcess
from webapp.arena.models import Battle, Vote
from webapp.arena.services import client_hash_for
from webapp.feedback.services.languages import language_get_or_create
from webapp.modelstore.services import variant_set_enrolled

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services, pytest.mark.slow]

VISITORS = 3
BATTLES_EACH = 10  # 30 in all
OUTCOMES = ["a", "b", "tie", "both_bad"]
CALL_TIMEOUT = 60  # seconds; a call takes about 1 s with the tiny models


@pytest.fixture
def arena(tiny_variants):
    for code in ("en", "de"):
        language_get_or_create(code)
    for variant in tiny_variants:
        variant_set_enrolled(variant=variant, enrolled=True)
    return tiny_variants


@pytest.fixture
def layout(arena, tmp_path):
    """The arena process, then the root with two workers forwarding /arena/ to it."""
    started: list[ServerProcess] = []
    try:
        started.append(
            ServerProcess(
                tmp_path / "arena.log",
                env={"ARENA_MAX_NEW_TOKENS": "16", "ARENA_CONCURRENCY": str(VISITORS)},
                app="webapp.arena_asgi:application",
                ready_path="/arena/config",
            )
        )
        # The root trusts X-Forwarded-For here only so each test visitor can stand for a different address.
        env = {"ARENA_URL": started[0].url, "ARENA_TRUST_FORWARDED_FOR": "true"}
        started.append(ServerProcess(tmp_path / "root.log", env=env, workers=2))
        yield started[0], started[1]
    finally:
        for server in reversed(started):
            server.stop()


def worker_pids(server: ServerProcess) -> list[int]:
    """uvicorn's worker processes: the children of its supervisor that multiprocessing spawned (not its
    resource tracker)."""
    children = Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children").read_text().split()
    return [int(pid) for pid in children if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]


def fetch(url: str) -> tuple[int, Message, str]:
    """Status, headers (names in any case) and text of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=30) as reply:
            return reply.status, reply.headers, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def visit(root_url: str, visitor: int, calls: list[dict], lock: threading.Lock) -> None:
    """One visitor (their own address and gradio session): battles and votes one after the other. A call
    reports success when both the battle and its vote returned without an error."""
    address = f"198.51.100.{visitor + 1}"
    client = Client(f"{root_url}/arena/", verbose=False, headers={"X-Forwarded-For": address})
    try:
        for number in range(BATTLES_EACH):
            prompt = f"Visitor {visitor}, question {number}: tell me about the sea and a lighthouse."
            outcome = OUTCOMES[(visitor + number) % len(OUTCOMES)]
            call = {"prompt": prompt, "outcome": outcome, "address": address}
            try:
                battle = client.submit(prompt, "en", api_name="/battle")
                text_a, text_b, _language, _status = battle.result(timeout=CALL_TIMEOUT)
                reveal = client.submit("en", api_name=f"/vote_{outcome}").result(timeout=CALL_TIMEOUT)
                # distinct (answer A, answer B) states the stream delivered: more than the final one if it streamed
                updates = len({tuple(output[:2]) for output in battle.outputs()})
                call.update(ok=bool(text_a and text_b and "Model A was" in reveal), reveal=reveal, updates=updates)
            except Exception as exc:  # noqa: BLE001 - any failure of a call is what the test counts
                call.update(ok=False, error=f"{type(exc).__name__}: {exc}")
            with lock:
                calls.append(call)
            if not call["ok"]:
                break  # a lost call can hang its session's later ones: one failure is enough to report
    finally:
        client.close()


def test_thirty_battles_through_two_web_workers_and_one_arena_process_all_land_once(layout):
    arena_server, root = layout
    assert len(worker_pids(root)) == 2

    # The root's /arena/ is the arena process's: its page, with the arena's security headers, and the redirect.
    status, headers, page = fetch(f"{root.url}/arena/")
    assert status == 200 and "gradio" in page.lower()
    assert headers["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert len(headers.get_all("Content-Security-Policy")) == len(headers.get_all("X-Frame-Options")) == 1
    request = urllib.request.Request(f"{root.url}/arena", method="HEAD")
    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(request, timeout=30)
    assert redirect.value.code == 308 and redirect.value.headers["Location"] == "/arena/"
    assert fetch(f"{root.url}/healthz")[0] == 200  # Django beside it

    calls: list[dict] = []
    lock = threading.Lock()
    visitors = [threading.Thread(target=visit, args=(root.url, v, calls, lock)) for v in range(VISITORS)]
    for thread in visitors:
        thread.start()
    for thread in visitors:
        thread.join(timeout=2 * CALL_TIMEOUT * BATTLES_EACH)

    failures = [call for call in calls if not call["ok"]]
    assert not failures, failures
    assert len(calls) == VISITORS * BATTLES_EACH
    assert all(call["updates"] >= 3 for call in calls), [call["updates"] for call in calls]  # streamed through

    # Every stored vote matches a call that reported success, and every success stored exactly one vote:
    # same prompt, same outcome, the revealed names, and the visitor's own address behind the client hash.
    succeeded = {call["prompt"]: call for call in calls if call["ok"]}
    votes = list(Vote.objects.select_related("battle", "variant_a", "variant_b"))
    assert Counter(vote.battle.prompt for vote in votes) == Counter(list(succeeded))
    for vote in votes:
        call = succeeded[vote.battle.prompt]
        assert vote.outcome == call["outcome"]
        assert f"Model A was **{vote.variant_a.name}**" in call["reveal"]
        assert vote.client_hash == vote.battle.client_hash == client_hash_for(call["address"])
    assert Battle.objects.count() == len(succeeded)

    # Gradio is not mounted in the root: with the arena process gone, /arena/ says so.
    arena_server.stop()
    status, headers, body = fetch(f"{root.url}/arena/config")
    assert status == 502 and "not reachable" in body and headers["X-Frame-Options"] == "DENY"
    assert len(headers.get_all("X-Frame-Options")) == 1


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
