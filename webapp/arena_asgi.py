"""The arena as its own ASGI application: the Gradio Blocks at /arena/ with the site's security headers
(webapp/arena/policy.py), and nothing else. For a site with several web processes:

    ARENA_TRUST_FORWARDED_FOR=true .venv/bin/python -m uvicorn webapp.arena_asgi:application --port 8001

and ARENA_URL=http://127.0.0.1:8001 for the web processes, which then forward /arena/ here (webapp/arena_proxy.py).
Gradio's queue lives in this process's memory: run it with one uvicorn worker, and replicas of it only behind
sticky sessions (README, "Scaling out"). It is reached only through proxies, so it takes the visitor's
address from X-Forwarded-For unless ARENA_TRUST_FORWARDED_FOR says otherwise; never expose its port directly."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
os.environ.setdefault("ARENA_TRUST_FORWARDED_FOR", "true")
django.setup(set_prefix=False)

from fastapi import FastAPI  # noqa: E402  (Django must be set up before anything imports models)

from webapp.arena.gradio_app import mount_arena  # noqa: E402

ARENA_PATH = "/arena"

application = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
mount_arena(application, path=ARENA_PATH)
