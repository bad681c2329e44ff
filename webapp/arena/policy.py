"""The arena's security headers: the site's Content-Security-Policy (settings.CONTENT_SECURITY_POLICY, sent on
every Django response by django-csp) loosened for what Gradio's page needs, the site's other security headers
(X-Frame-Options, X-Content-Type-Options, Referrer-Policy, Cross-Origin-Opener-Policy: what Django's
SecurityMiddleware and XFrameOptionsMiddleware send, from the same settings), and the ASGI middleware that sends
them on the arena's responses (they never pass through Django's middleware).

Gradio's page boots from an inline script, styles its components inline, compiles some code at run
time, and draws with data:/blob: URLs; a nonce cannot cover code we do not write, so these sources are
allowed on the arena's paths only. Everything else (no plugins, no framing, no foreign origins, forms
and connections back to this site only) stays as strict as on the other pages."""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from csp.constants import NONCE, NONE, UNSAFE_EVAL, UNSAFE_INLINE
from csp.utils import build_policy, default_config
from django.conf import settings

# directive -> sources added to the site's policy for Gradio
GRADIO_SOURCES = {
    "script-src": [UNSAFE_INLINE, UNSAFE_EVAL],
    "style-src": [UNSAFE_INLINE],
    "img-src": ["blob:"],
    "media-src": ["'self'", "blob:", "data:"],
    "font-src": ["data:"],
    "worker-src": ["'self'", "blob:"],
}

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]
CSP = b"content-security-policy"


def arena_directives() -> dict[str, list]:
    """The site's directives plus GRADIO_SOURCES. The nonce is dropped where 'unsafe-inline' is added:
    a browser ignores 'unsafe-inline' in a directive that also lists a nonce."""
    directives = {name: list(sources) for name, sources in settings.CONTENT_SECURITY_POLICY["DIRECTIVES"].items()}
    for name, extra in GRADIO_SOURCES.items():
        sources = [source for source in directives.get(name, []) if source is not NONCE or UNSAFE_INLINE not in extra]
        directives[name] = sources + [source for source in extra if source not in sources]
    # A page that frames the arena could collect votes from its own visitors, around the per-client limits.
    directives.setdefault("frame-ancestors", [NONE])
    return directives


def arena_policy() -> str:
    return build_policy(config=default_config(arena_directives()))


def site_headers() -> dict[bytes, bytes]:
    """The security headers Django sends on the site's pages, from the same settings (each left out where
    its setting turns it off, as Django does)."""
    headers = {b"x-frame-options": settings.X_FRAME_OPTIONS.upper()}
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers[b"x-content-type-options"] = "nosniff"
    referrer = settings.SECURE_REFERRER_POLICY
    if referrer:
        # Django takes a comma-separated string or a list of values
        headers[b"referrer-policy"] = referrer if isinstance(referrer, str) else ",".join(referrer)
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers[b"cross-origin-opener-policy"] = settings.SECURE_CROSS_ORIGIN_OPENER_POLICY
    return {name: value.encode("latin-1") for name, value in headers.items()}


class ArenaPolicyMiddleware:
    """Sends the arena's Content-Security-Policy (unless the response already has one) and the site's other
    security headers (replacing any Gradio would send) on every HTTP response under `prefix`, and on `prefix`
    without its slash."""

    def __init__(self, app: ASGIApp, *, prefix: str):
        self.app, self.prefix = app, prefix.rstrip("/")
        self.policy = arena_policy().encode("latin-1")
        self.headers = site_headers()

    def _applies(self, scope: Scope) -> bool:
        path = scope.get("path", "")
        return scope["type"] == "http" and (path == self.prefix or path.startswith(self.prefix + "/"))

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]], send: Callable) -> None:
        if not self._applies(scope):
            await self.app(scope, receive, send)
            return

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value) for name, value in message.get("headers", []) if name.lower() not in self.headers
                ]
                if not any(name.lower() == CSP for name, _value in headers):
                    headers.append((CSP, self.policy))
                message["headers"] = headers + list(self.headers.items())
            await send(message)

        await self.app(scope, receive, send_with_policy)
