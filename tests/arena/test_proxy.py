"""The web process's arena proxy (webapp/arena_proxy.py) against a real upstream: both under uvicorn on
loopback (a streamed answer must arrive chunk by chunk over a socket, which the in-memory test clients
cannot show). The upstream records what reached it and streams server-sent events on demand."""

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse

from webapp.arena_proxy import METHODS, ArenaProxy

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Background:
    """A uvicorn server in a thread of this process."""

    def __init__(self, app):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # proxy_headers off: uvicorn would otherwise take X-Forwarded-For from a loopback peer (this test) itself
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", proxy_headers=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started:
            assert time.time() < deadline, "uvicorn did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


class Upstream:
    """An arena stand-in: /arena/echo answers with what it received; /arena/events sends one event, then the
    next only after the test has seen the first (so a proxy that buffered would hang); it notes a disconnect."""

    def __init__(self):
        self.release = threading.Event()
        self.disconnected = threading.Event()
        app = FastAPI()

        async def echo(request: Request) -> JSONResponse:
            body = await request.body()
            reply = JSONResponse(
                {
                    "method": request.method,
                    "path": request.url.path,
                    "query": request.url.query,
                    "body": body.decode(),
                    "headers": [[name.decode(), value.decode()] for name, value in request.headers.raw],
                },
                headers={"x-arena": "yes", "connection": "close, x-secret", "x-secret": "hop"},
            )
            reply.raw_headers += [(b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")]
            return reply

        async def events(request: Request) -> StreamingResponse:
            async def stream():
                try:
                    yield b"data: first\n\n"
                    while not self.release.is_set():
                        await asyncio.sleep(0.02)
                    yield b"data: second\n\n"
                    await asyncio.sleep(30)  # a stream the visitor leaves
                    yield b"data: never\n\n"
                except asyncio.CancelledError:
                    self.disconnected.set()
                    raise

            return StreamingResponse(stream(), media_type="text/event-stream")

        async def raw(request: Request) -> JSONResponse:
            return JSONResponse({"raw_path": request.scope["raw_path"].decode(), "query": request.url.query})

        app.add_api_route("/arena/echo", echo, methods=METHODS)
        app.add_api_route("/arena/raw/{rest:path}", raw, methods=["GET"])
        app.add_api_route("/arena/events", events, methods=["GET"])
        self.server = Background(app)


def proxy_app(upstream: str, *, trust: bool) -> FastAPI:
    proxy = ArenaProxy(upstream, trust_forwarded=trust)
    app = FastAPI()
    app.add_api_route("/arena/{rest:path}", proxy, methods=METHODS)
    return app


@pytest.fixture(scope="module")
def upstream():
    running = Upstream()
    yield running
    running.server.stop()


@pytest.fixture(scope="module")
def proxy(upstream):
    running = Background(proxy_app(upstream.server.url, trust=False))
    yield running
    running.stop()


def header(reply: dict, name: str) -> list[str]:
    return [value for key, value in reply["headers"] if key == name]


def test_method_path_query_body_and_headers_reach_the_arena(proxy):
    reply = httpx.post(
        f"{proxy.url}/arena/echo?a=1&b=%C3%A9",
        content=b'{"data": ["Hallo"]}',
        headers={
            "content-type": "application/json",
            "x-custom": "kept",
            "connection": "keep-alive, x-hop",
            "x-hop": "1",
        },
    )
    assert reply.status_code == 200
    seen = reply.json()
    assert (seen["method"], seen["path"], seen["query"], seen["body"]) == (
        "POST",
        "/arena/echo",
        "a=1&b=%C3%A9",
        '{"data": ["Hallo"]}',
    )
    assert header(seen, "x-custom") == ["kept"] and header(seen, "content-type") == ["application/json"]
    assert header(seen, "x-hop") == [] and header(seen, "connection") != ["keep-alive, x-hop"]
    assert header(seen, "x-forwarded-host") == [f"127.0.0.1:{proxy.port}"]
    assert header(seen, "x-forwarded-proto") == ["http"]
    assert header(seen, "x-forwarded-for") == ["127.0.0.1"]
    # The answer's end-to-end headers come back (repeated ones too); its hop-by-hop ones do not.
    assert reply.headers["x-arena"] == "yes" and reply.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert "x-secret" not in reply.headers
    for method in ("PUT", "DELETE", "PATCH"):
        assert httpx.request(method, f"{proxy.url}/arena/echo").json()["method"] == method


def test_a_visitor_cannot_choose_the_address_the_arena_counts(proxy):
    spoofed = {"x-forwarded-for": "203.0.113.9", "x-forwarded-host": "evil.example", "x-forwarded-proto": "https"}
    seen = httpx.get(f"{proxy.url}/arena/echo", headers=spoofed).json()
    assert header(seen, "x-forwarded-for") == ["127.0.0.1"]
    assert header(seen, "x-forwarded-host") == [f"127.0.0.1:{proxy.port}"]
    assert header(seen, "x-forwarded-proto") == ["http"]


def test_behind_a_trusted_proxy_its_forwarded_headers_are_kept(upstream):
    trusting = Background(proxy_app(upstream.server.url, trust=True))
    try:
        incoming = {"x-forwarded-for": "203.0.113.9", "x-forwarded-host": "arena.example", "x-forwarded-proto": "https"}
        seen = httpx.get(f"{trusting.url}/arena/echo", headers=incoming).json()
    finally:
        trusting.stop()
    assert header(seen, "x-forwarded-for") == ["203.0.113.9, 127.0.0.1"]  # the visitor first, as the arena reads it
    assert header(seen, "x-forwarded-host") == ["arena.example"]
    assert header(seen, "x-forwarded-proto") == ["https"]


def test_events_stream_through_as_they_are_sent_and_a_visitor_who_leaves_closes_the_upstream(proxy, upstream):
    with httpx.stream("GET", f"{proxy.url}/arena/events", timeout=10) as reply:
        assert reply.headers["content-type"].startswith("text/event-stream")
        lines = reply.iter_lines()
        assert next(lines) == "data: first"  # arrives while the upstream is still waiting: not buffered
        upstream.release.set()
        assert next(line for line in lines if line) == "data: second"
    # the client left mid-stream: the proxy closed its upstream request, and the arena saw it
    assert upstream.disconnected.wait(timeout=10)


def test_an_unreachable_arena_is_a_502_with_a_message():
    down = Background(proxy_app(f"http://127.0.0.1:{free_port()}", trust=False))
    try:
        reply = httpx.get(f"{down.url}/arena/")
    finally:
        down.stop()
    assert reply.status_code == 502 and "not reachable" in reply.text


def test_the_answer_keeps_its_encoding_and_length(proxy):
    reply = httpx.get(f"{proxy.url}/arena/echo", headers={"accept-encoding": "identity"})
    assert int(reply.headers["content-length"]) == len(reply.content)
    assert json.loads(reply.content)["method"] == "GET"


def python(code: str, **env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, "DJANGO_SETTINGS_MODULE": "webapp.settings_test", **env}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=full, capture_output=True, text=True, timeout=120)


def test_with_arena_url_the_root_forwards_the_arena_and_never_imports_gradio():
    code = (
        "import sys, webapp.asgi as a; "
        "print('gradio' in sys.modules, sorted(r.path for r in a.application.routes if r.path.startswith('/arena')))"
    )
    proxied = python(code, ARENA_URL="http://127.0.0.1:8001")
    assert proxied.returncode == 0, proxied.stderr[-2000:]
    assert proxied.stdout.strip() == "False ['/arena', '/arena/{rest:path}']"
    in_process = python(code, ARENA_URL="")
    assert in_process.returncode == 0, in_process.stderr[-2000:]
    assert in_process.stdout.startswith("True ")  # the default: Gradio mounted here


@pytest.mark.parametrize("bad", ["127.0.0.1:8001", "ftp://arena", "http://arena:8001/arena/", "http://"])
def test_a_bad_arena_url_stops_the_process_with_its_name(bad):
    result = python("import django; django.setup()", ARENA_URL=bad)
    assert result.returncode != 0 and "ARENA_URL" in result.stderr


def test_an_encoded_path_and_query_reach_the_arena_as_they_were_sent(proxy):
    seen = httpx.get(f"{proxy.url}/arena/raw/file=a%2Fb%20c.png?x=%26&y=%C3%A9").json()
    assert seen == {"raw_path": "/arena/raw/file=a%2Fb%20c.png", "query": "x=%26&y=%C3%A9"}
