from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _

from webapp.feedback.models import Language
from webapp.permissions import staff_page
from webapp.retrieval import selectors

LINK_THRESHOLD = 0.6


@login_required
def search_page(request):
    """The page's script calls GET /api/v1/search/; a link with ?q= (and language, kind, k) opens with
    the form filled in and the search run (static/retrieval/search.js)."""
    k = request.GET.get("k", "10")
    query = {
        "q": request.GET.get("q", "")[: selectors.MAX_QUERY_CHARS],
        "languages": request.GET.getlist("language"),
        "kind": request.GET.get("kind", ""),
        "k": k if k.isdigit() and 1 <= int(k) <= selectors.MAX_K else "10",
    }
    return render(request, "retrieval/search.html", {"languages": Language.objects.all(), "query": query})


@staff_page
def links_page(request):
    """Staff: suggested translation links (prompt pairs in different languages, similar, not yet in
    one group) to confirm or reject in one click, and near-duplicates within a language."""
    try:
        threshold = min(1.0, max(0.3, float(request.GET.get("threshold", LINK_THRESHOLD))))
    except ValueError:
        threshold = LINK_THRESHOLD
    return render(
        request,
        "retrieval/links.html",
        {
            "links": selectors.similar_prompt_pairs(threshold=threshold, cross_language=True, limit=100),
            "duplicates": selectors.similar_prompt_pairs(threshold=0.95, cross_language=False, limit=100),
            "threshold": threshold,
            "strings": {"confirmed": _("Linked in group"), "rejected": _("Rejected.")},
        },
    )
