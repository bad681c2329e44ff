"""The Celery worker side: thin tasks (`workers.tasks`) that adapt between `webapp` services and `ml`.
`celery -A workers worker` finds `app` here."""

import os

# A worker process keeps its one connection and no pool (webapp/settings.py, DB_POOL_SIZE): Django's pool would not
# survive the prefork pool's fork, and a task holds its connection for its whole run anyway. Set before Django reads
# its settings, and whatever the environment says (the web process sets it for itself).
os.environ["DB_POOL_SIZE"] = "0"

from workers.celery import app  # noqa: E402

__all__ = ["app"]
