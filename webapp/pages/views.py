from django.db import connection
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views import defaults
from rest_framework.exceptions import NotFound

from webapp.modelstore.models import ModelVariant
from webapp.pages.dashboard import loop_status
from webapp.pages.selectors import variant_detail
from webapp.permissions import staff_page


def not_found(request, exception):
    """A URL no route matches (settings: handler404 in webapp/urls.py): under /api/ the API's JSON error, as the
    schema documents every 404 (e.g. /api/v1/tasks/1.5/, which no id route takes); elsewhere the site's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(NotFound.default_detail)}, status=404)
    return defaults.page_not_found(request, exception)


def home(request):
    """Where the loop stands, with a link to each part."""
    return render(request, "home.html", {"status": loop_status()})


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})


@staff_page
def variant_page(request, pk: int):
    """One variant: lineage (parents, job, data by source and language, parameters), evaluation per
    language, arena rating per language, and enrol / withdraw."""
    variant = get_object_or_404(ModelVariant.objects.select_related("parent"), pk=pk)
    return render(request, "pages/variant.html", {"detail": variant_detail(variant)})
