from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from webapp.dashboard import loop_status


def home(request):
    """Where the loop stands, with a link to each part."""
    return render(request, "home.html", {"status": loop_status()})


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})
