"""The page a refused form (Django's CSRF check) answers with: what went wrong and what to do about it,
instead of Django's bare "403 Forbidden"; API clients get the same advice as JSON."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    advice = _(
        "Reload the page and send the form again. A script must first GET the page to receive the csrftoken "
        "cookie, then send it back with the form (field csrfmiddlewaretoken or header X-CSRFToken) and a Referer "
        "or Origin header naming this site; API clients can use a token instead (POST /api/v1/auth/token/)."
    )
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": _("The request's CSRF check failed: %(reason)s") % {"reason": reason}, "advice": advice},
            status=403,
        )
    context = {"reason": reason, "advice": advice, "secure_cookies": request.is_secure()}
    return render(request, "csrf_failure.html", context, status=403)
