"""Recording staff actions. Call `record` inside the action's transaction, so an action that fails
leaves no event and an event never describes an action that did not happen."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import models

from webapp.audit.context import current_request
from webapp.audit.models import AuditEvent


def record(
    *,
    action: str,
    target: models.Model | None = None,
    details: dict[str, Any] | None = None,
    actor: AbstractBaseUser | AnonymousUser | None = None,
) -> AuditEvent:
    """Write one event. `actor` defaults to the user of the request being served (session or API
    token); outside a request (a worker, a command) and without `actor`, the event has no actor."""
    request = current_request.get()
    if actor is None and request is not None:
        actor = getattr(request, "user", None)
    user = actor if isinstance(actor, User) and actor.is_authenticated else None
    return AuditEvent.objects.create(
        actor=user,
        actor_name=user.get_username() if user is not None else "",
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        details=details or {},
        ip=_address(request),
    )


def _address(request: Any) -> str | None:
    return (request.META.get("REMOTE_ADDR") or None) if request is not None else None
