"""The Celery worker side: thin tasks (`workers.tasks`) that adapt between `webapp` services and `ml`.
`celery -A workers worker` finds `app` here."""

from workers.celery import app

__all__ = ["app"]
