"""One login page for the whole site: the admin's login form sends browsers to /accounts/login/ (keeping
where they were going), while a POST to it still signs in, for scripts written against the admin."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


def admin_login(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return admin.site.login(request)
    target = request.GET.get("next") or "/admin/"
    return redirect(f"{settings.LOGIN_URL}?{urlencode({'next': target})}")
