"""One ASGI application: a FastAPI root with the arena at /arena/ and Django for the rest (docs/operations.md,
"Web process"). The arena is the Gradio app mounted in this process (the default, what `make run` serves), or,
when ARENA_URL is set, a proxy to the arena's own process (`webapp.arena_asgi`), so that several web workers
can share one Gradio queue. Either is mounted first: in the other order Django's catch-all answers /arena/
with 404."""

import os
from contextlib import asynccontextmanager

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
# A web process that forwards the arena (ARENA_URL: Gradio runs elsewhere) pools its PostgreSQL connections
# (webapp/settings.py; docs/operations.md, DB_POOL_SIZE). Not one that mounts Gradio: its handlers run in worker
# threads outside Django's request cycle, which would never hand a pooled connection back.
if os.environ.get("ARENA_URL", "").strip():
    os.environ.setdefault("DB_POOL_SIZE", "8")
django_asgi_app = get_asgi_application()

from fastapi import FastAPI  # noqa: E402  (Django must be set up before anything imports models)

if settings.DEBUG:
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    django_asgi_app = ASGIStaticFilesHandler(django_asgi_app)

ARENA_PATH = "/arena"


def proxied_application(arena_url: str) -> FastAPI:
    """The root that forwards /arena and /arena/* to the arena process at `arena_url`."""
    from webapp.arena.policy import ArenaPolicyMiddleware
    from webapp.arena_proxy import METHODS, ArenaProxy

    proxy = ArenaProxy(arena_url, trust_forwarded=settings.ARENA_TRUST_FORWARDED_FOR)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        await proxy.aclose()

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.add_api_route(ARENA_PATH, proxy, methods=METHODS, include_in_schema=False)
    app.add_api_route(ARENA_PATH + "/{rest:path}", proxy, methods=METHODS, include_in_schema=False)
    # The arena sends its security headers itself; this makes them the same on what the proxy answers alone
    # (an arena out of reach), and changes nothing on the rest (the same values replace the same values).
    app.add_middleware(ArenaPolicyMiddleware, prefix=ARENA_PATH)
    return app


def in_process_application() -> FastAPI:
    """The root with the Gradio arena mounted in this process."""
    from webapp.arena.gradio_app import mount_arena

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    mount_arena(app, path=ARENA_PATH)
    return app


application = proxied_application(settings.ARENA_URL) if settings.ARENA_URL else in_process_application()
application.mount("/", django_asgi_app)
