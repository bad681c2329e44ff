from django.db import connection
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render

from webapp.modelstore.models import ModelVariant
from webapp.pages.dashboard import loop_status
from webapp.pages.selectors import variant_detail
from webapp.permissions import staff_page


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
