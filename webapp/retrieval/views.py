from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from webapp.feedback.models import Language


@login_required
def search_page(request):
    """The page is static; static/retrieval/search.js calls GET /api/v1/search/."""
    return render(request, "retrieval/search.html", {"languages": Language.objects.all()})
