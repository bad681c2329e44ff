from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from webapp.arena import selectors, services
from webapp.errors import ApplicationError
from webapp.permissions import staff_page


@staff_page
@require_http_methods(["GET", "POST"])
def stats_page(request):
    """Staff: arena activity, the most active clients, and excluding (or restoring) a client."""
    if request.method == "POST":
        client = request.POST.get("client_hash", "")
        try:
            if request.POST.get("action") == "include":
                services.client_include(client_hash=client)
                messages.success(request, _("Client %(client)s… counts again.") % {"client": client[:12]})
            else:
                services.client_exclude(client_hash=client, reason=request.POST.get("reason", ""), by=request.user)
                messages.success(
                    request, _("Client %(client)s… excluded; their votes no longer count.") % {"client": client[:12]}
                )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect("arena-stats")
    style = selectors.CONTROL if request.GET.get("board") == "style" else selectors.PLAIN
    fit = selectors.rating_fit(style=style)
    separation = {pair["higher"]: pair["votes_needed"] for pair in fit.votes_needed}
    board = [
        {**row, "votes_needed": separation.get(row["variant"])}
        for row in selectors.leaderboard_with_lineage(style=style)
    ]
    context = {
        "stats": selectors.arena_statistics(),
        "board": board,
        "style_control": style == selectors.CONTROL,
        "style": fit.style,
        "freshness": selectors.freshness(fit),
        "min_votes": settings.ARENA_MIN_VOTES,
        "alpha": settings.ARENA_OUTLIER_ALPHA,
        "outlier_min_votes": settings.ARENA_OUTLIER_MIN_VOTES,
        "prompt_cap": settings.ARENA_PROMPT_CAP,
    }
    return render(request, "arena/stats.html", context)
