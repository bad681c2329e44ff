from django.db import connection
from django.db.models import Count, Q
from django.http import JsonResponse
from django.shortcuts import render

from webapp.feedback.models import Annotation, Language, PreferenceRecord, Task


def home(request):
    languages = (
        Language.objects.annotate(
            tasks_open=Count("tasks", filter=Q(tasks__deleted_at__isnull=True), distinct=True),
            preferences_count=Count("preferences", filter=Q(preferences__deleted_at__isnull=True), distinct=True),
        )
        .filter(Q(tasks_open__gt=0) | Q(preferences_count__gt=0))
        .order_by("code")
    )
    context = {
        "languages": languages,
        "tasks": Task.objects.alive().count(),
        "annotations": Annotation.objects.count(),
        "preferences": PreferenceRecord.objects.alive().count(),
    }
    return render(request, "home.html", context)


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})
