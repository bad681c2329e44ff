"""Celery app and tasks, and all code that needs torch. `celery -A workers worker` finds `app` here."""

from workers.celery import app

__all__ = ["app"]
