"""One ASGI application: a FastAPI root that will hold the Gradio arena at /arena/ (mounted first,
DESIGN.md) and Django for everything else."""

import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
django_asgi_app = get_asgi_application()

from fastapi import FastAPI  # noqa: E402  (Django must be set up before anything imports models)

if settings.DEBUG:
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    django_asgi_app = ASGIStaticFilesHandler(django_asgi_app)

application = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
application.mount("/", django_asgi_app)
