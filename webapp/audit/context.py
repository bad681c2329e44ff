"""The request being served, for `audit.services.record` to name the actor and address of an action
without every service taking them as arguments. A context variable: each request (thread or ASGI task)
sees its own, and code outside a request (workers, commands) sees none."""

from contextvars import ContextVar

from django.http import HttpRequest

current_request: ContextVar[HttpRequest | None] = ContextVar("audit_current_request", default=None)


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        token = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)
