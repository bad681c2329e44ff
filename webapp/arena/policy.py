"""The arena's Content-Security-Policy: the site's policy (settings.CONTENT_SECURITY_POLICY, sent on every
Django response by django-csp) loosened for what Gradio's page needs, and the ASGI middleware that sends
it on the arena's responses (they never pass through Django's middleware).

Gradio's page boots from an inline script, styles its components inline, compiles some code at run
time, and draws with data:/blob: URLs; a nonce cannot cover code we do not write, so these sources are
allowed on the arena's paths only. Everything else (no plugins, no framing, no foreign origins, forms
and connections back to this site only) stays as strict as on the other pages."""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from csp.constants import NONCE, UNSAFE_EVAL, UNSAFE_INLINE
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


def arena_directives() -> dict[str, list]:
    """The site's directives plus GRADIO_SOURCES. The nonce is dropped where 'unsafe-inline' is added:
    a browser ignores 'unsafe-inline' in a directive that also lists a nonce."""
    directives = {name: list(sources) for name, sources in settings.CONTENT_SECURITY_POLICY["DIRECTIVES"].items()}
    for name, extra in GRADIO_SOURCES.items():
        sources = [source for source in directives.get(name, []) if source is not NONCE or UNSAFE_INLINE not in extra]
        directives[name] = sources + [source for source in extra if source not in sources]
    return directives


def arena_policy() -> str:
    return build_policy(config=default_config(arena_directives()))


class ArenaPolicyMiddleware:
    """Adds the arena's Content-Security-Policy to every HTTP response under `prefix` (and to `prefix`
    without its slash), unless the response already has one."""

    def __init__(self, app: ASGIApp, *, prefix: str):
        self.app, self.prefix = app, prefix.rstrip("/")
        self.header = arena_policy().encode("latin-1")

    def _applies(self, scope: Scope) -> bool:
        path = scope.get("path", "")
        return scope["type"] == "http" and (path == self.prefix or path.startswith(self.prefix + "/"))

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]], send: Callable) -> None:
        if not self._applies(scope):
            await self.app(scope, receive, send)
            return

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"content-security-policy" for name, _ in headers):
                    headers.append((b"content-security-policy", self.header))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_policy)
