"""One ASGI application: a FastAPI root with the Gradio arena at /arena/ (mounted first: in the other
order Django's catch-all answers /arena/ with 404; docs/operations.md, "Web process") and Django for the rest."""

import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
django_asgi_app = get_asgi_application()

from fastapi import FastAPI  # noqa: E402  (Django must be set up before anything imports models)

if settings.DEBUG:
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    django_asgi_app = ASGIStaticFilesHandler(django_asgi_app)

from fastapi.responses import RedirectResponse  # noqa: E402

from webapp.arena.gradio_app import mount_arena  # noqa: E402

application = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@application.api_route("/arena", methods=["GET", "HEAD"], include_in_schema=False)
def arena_without_slash() -> RedirectResponse:
    return RedirectResponse("/arena/", status_code=308)


mount_arena(application, path="/arena")
application.mount("/", django_asgi_app)
