from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import render

from webapp.feedback.exporting import FORMATS, SOURCES
from webapp.feedback.models import Campaign, Language, TransferJob
from webapp.feedback.pairs import EXPANSIONS


@staff_member_required
def transfers_page(request):
    """Staff page: upload an import, start an export, watch both progress (the page polls the API)."""
    context = {
        "jobs": TransferJob.objects.all()[:20],
        "formats": FORMATS,
        "sources": SOURCES,
        "expansions": EXPANSIONS,
        "languages": Language.objects.all(),
        "campaigns": Campaign.objects.alive(),
    }
    return render(request, "feedback/transfers.html", context)
