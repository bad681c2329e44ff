"""The web process's side of a separate arena process: when ARENA_URL is set, /arena and /arena/* are
forwarded there instead of being served by an in-process Gradio (docs/operations.md, "Web process").

Gradio keeps its queue (events waiting, running, and the streams that deliver their results) in one process's
memory, so under `uvicorn --workers N` a `queue/join` and its `queue/data` stream may land in two processes
and the call fails. The arena therefore runs as its own process (`webapp.arena_asgi`, replicated behind sticky
sessions), and every web worker forwards to it. Gradio 6 talks over plain HTTP (JSON posts, and server-sent
events for the queue's results and the heartbeat; no websockets), so the proxy is an HTTP proxy that streams:
the request body goes up as it arrives, and the answer comes back chunk by chunk as the arena sends it (an SSE
event reaches the visitor when the arena writes it). A visitor who leaves closes the upstream stream, so the
arena sees the disconnect (and abandons the battle) as it would in-process.

Headers: the hop-by-hop ones (RFC 9110 section 7.6.1, and any the Connection header names) are dropped both ways;
the arena learns the visitor's address from X-Forwarded-For (its per-client limits hash it), and the public
host and scheme from X-Forwarded-Host / X-Forwarded-Proto (Gradio builds its URLs from them). Incoming
X-Forwarded-* values are passed on only with ARENA_TRUST_FORWARDED_FOR (this process is itself behind a proxy
that sets them); otherwise they are replaced, so a visitor cannot choose the address the limits count."""

import asyncio
from collections.abc import AsyncIterator

import httpx
from django.utils.translation import gettext as _
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
FORWARDED = frozenset({"x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "forwarded"})
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _dropped(headers: list[tuple[bytes, bytes]]) -> set[str]:
    """The hop-by-hop header names, the standard ones and those the Connection header lists."""
    named = {
        token.strip().lower()
        for name, value in headers
        if name.lower() == b"connection"
        for token in value.decode("latin-1").split(",")
    }
    return HOP_BY_HOP | {token for token in named if token}


def upstream_headers(request: Request, *, trust_forwarded: bool) -> list[tuple[str, str]]:
    """The request's end-to-end headers for the arena, with X-Forwarded-For/Host/Proto set. `Host` is left
    to httpx (the arena's own); the public host travels in X-Forwarded-Host."""
    raw = request.headers.raw
    dropped = _dropped(raw) | FORWARDED | {"host"}
    headers = [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, value in raw
        if name.decode("latin-1").lower() not in dropped
    ]
    peer = request.client.host if request.client else "unknown"
    incoming_for = request.headers.get("x-forwarded-for", "").strip()
    forwarded_for = f"{incoming_for}, {peer}" if trust_forwarded and incoming_for else peer
    host = request.headers.get("host", "")
    proto = request.url.scheme
    if trust_forwarded:
        host = request.headers.get("x-forwarded-host", "").split(",")[0].strip() or host
        proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip() or proto
    headers += [("x-forwarded-for", forwarded_for), ("x-forwarded-proto", proto)]
    if host:
        headers.append(("x-forwarded-host", host))
    return headers


class ArenaProxy:
    """Forwards a request to the arena at `upstream` (an origin such as http://127.0.0.1:8001) and streams the
    answer back. One connection pool per event loop (uvicorn runs one loop per worker)."""

    def __init__(self, upstream: str, *, trust_forwarded: bool, connect_timeout: float = 10.0):
        self.upstream = upstream.rstrip("/")
        self.trust_forwarded = trust_forwarded
        # No read timeout: an SSE stream (a queued battle, the heartbeat) stays open for as long as it runs.
        self.timeout = httpx.Timeout(connect=connect_timeout, read=None, write=60.0, pool=connect_timeout)
        self._clients: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}

    def client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if loop not in self._clients:
            self._clients[loop] = httpx.AsyncClient(
                base_url=self.upstream,
                timeout=self.timeout,
                follow_redirects=False,
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=64),
            )
        return self._clients[loop]

    async def aclose(self) -> None:
        """Close this loop's pool (the application's shutdown)."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    async def __call__(self, request: Request) -> Response:
        has_body = "content-length" in request.headers or "transfer-encoding" in request.headers
        # The path as it came (still percent-encoded: a decoded %2F would become a separator), and the query.
        target = request.scope.get("raw_path") or request.url.path.encode("utf-8")
        if request.scope.get("query_string"):
            target += b"?" + request.scope["query_string"]
        outgoing = self.client().build_request(
            request.method,
            self.upstream + target.decode("latin-1"),
            headers=upstream_headers(request, trust_forwarded=self.trust_forwarded),
            content=_body(request) if has_body else None,
        )
        try:
            answer = await self.client().send(outgoing, stream=True)
        except httpx.HTTPError:
            return PlainTextResponse(
                _("The arena is not reachable right now; please try again shortly."), status_code=502
            )
        dropped = _dropped(answer.headers.raw)
        headers = [(name, value) for name, value in answer.headers.multi_items() if name.lower() not in dropped]
        response = StreamingResponse(
            _chunks(answer), status_code=answer.status_code, background=BackgroundTask(answer.aclose)
        )
        # StreamingResponse set no headers of its own that matter here: the arena's replace them (all of them,
        # content-length and repeated ones such as set-cookie included).
        response.raw_headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]
        return response


async def _body(request: Request) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        if chunk:
            yield chunk


async def _chunks(answer: httpx.Response) -> AsyncIterator[bytes]:
    """The arena's bytes as they come (undecoded: content-encoding passes through); the upstream stream is
    closed however this ends, a visitor who left included."""
    try:
        async for chunk in answer.aiter_raw():
            yield chunk
    finally:
        await answer.aclose()
