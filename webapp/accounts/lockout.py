"""Throttling wrong passwords with django-axes (https://django-axes.readthedocs.io/): after
LOGIN_FAILURE_LIMIT failures for one username from one address, that pair is refused for
LOGIN_LOCKOUT_MINUTES, on the login form, the admin's login and POST /api/v1/auth/token/ alike. Another
user, or the same user from another address, is not affected; a successful login resets the count."""

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


class LoginThrottleBackend(AxesStandaloneBackend):
    """axes' check before the password is tried. A login without an HTTP request (the shell, the test
    client's `login()`) has no address to count by, so it is not throttled."""

    def authenticate(self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kw):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kw)


def lockout_message() -> str:
    return _(
        "Too many failed sign-in attempts for this account from your address. Try again in %(minutes)d minutes."
    ) % {"minutes": settings.LOGIN_LOCKOUT_MINUTES}


def lockout_response(request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None):
    """axes' AXES_LOCKOUT_CALLABLE: 429 with Retry-After; JSON `{"detail": ...}` for the API, the login
    page with the message for a browser."""
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": lockout_message()}, status=429)
    else:
        form = AuthenticationForm(request)
        context = {"form": form, "lockout": lockout_message(), "next": request.POST.get("next", "")}
        response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = str(settings.LOGIN_LOCKOUT_MINUTES * 60)
    return response
