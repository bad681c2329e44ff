"""Pages of the feedback store: the annotator workspace, review, onboarding (staff) and import/export
(staff). Views are thin: they read through selectors, write through services and render."""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from webapp.apifields import MAX_ID
from webapp.errors import ApplicationError
from webapp.feedback import contributors, selectors
from webapp.feedback.formats.exporting import SOURCES
from webapp.feedback.formats.pairs import EXPANSIONS
from webapp.feedback.formats.registry import export_formats, import_formats, unpaired_sources
from webapp.feedback.models import Campaign, Language, TransferJob
from webapp.feedback.quality.summary import Cursors, summary_report
from webapp.feedback.services import catalog, onboarding
from webapp.feedback.services.importing import AUTO
from webapp.feedback.services.suggestions import DEFAULT_HOLDOUT
from webapp.feedback.sources import HUMAN, Source
from webapp.feedback.workspace.forms import AcceptInvitationForm, AnnotatorForm, CampaignForm, InviteForm
from webapp.feedback.workspace.rendering import render_markdown
from webapp.feedback.workspace.strings import workspace_strings
from webapp.permissions import ANNOTATOR, reviewer_page, staff_page


@staff_page
def transfers_page(request):
    """Staff page: upload an import, start an export, watch both progress (the page polls the API)."""
    context = {
        "jobs": TransferJob.objects.all()[:20],
        "formats": export_formats.names(),
        "kto_sources": list(unpaired_sources.items()),  # the kto format's sources, with what each labels
        "import_formats": (AUTO, *import_formats.names()),
        "sources": SOURCES,
        "expansions": EXPANSIONS,
        "languages": Language.objects.all(),
        "campaigns": Campaign.objects.alive(),
    }
    return render(request, "feedback/transfers.html", context)


# --- The annotator workspace ---------------------------------------------------------------------
@login_required
def annotate_page(request):
    """Pick a campaign (or go straight in when there is one), then rank tasks or contribute (write, reply, edit,
    translate, verify: the campaign's kind). The page's scripts drive the REST API: tasks/next, lease renewal,
    submit (an annotation, a contribution or a verdict), skip, progress."""
    languages = selectors.user_language_codes(request.user)
    campaigns = list(
        selectors.open_campaigns_for(request.user).filter(languages__code__in=languages).distinct().order_by("name")
    )
    chosen = None
    if request.GET.get("campaign"):
        chosen = next((c for c in campaigns if str(c.pk) == request.GET["campaign"]), None)
        if chosen is None:
            raise Http404(_("No such campaign among yours."))
    elif len(campaigns) == 1:
        chosen = campaigns[0]
    config = {
        "campaign": chosen.pk if chosen else None,
        "leaseSeconds": settings.TASK_LEASE_SECONDS,
        "strings": workspace_strings(),
        # The contribute flows (static/feedback/contribute.js): the edit rule shown live, drafts kept per user
        # and task, and the store's languages, whose names and directions a source or target text is shown with.
        "kind": chosen.kind if chosen else None,
        "minEditDistance": chosen.min_edit_distance if chosen else None,
        "user": request.user.pk,
        "username": request.user.get_username(),
        "languages": {lang.code: {"name": lang.name, "direction": lang.direction} for lang in Language.objects.all()},
    }
    context = {
        "campaigns": campaigns,
        "campaign": chosen,
        "guidelines": render_markdown(chosen.guidelines) if chosen else "",
        "languages": Language.objects.filter(code__in=languages).order_by("code"),
        "config": config,
        "config_json": json.dumps(config),
    }
    return render(request, "feedback/annotate.html", context)


# --- Review ----------------------------------------------------------------------------------------
@reviewer_page
def review_page(request):
    campaign_id = request.GET.get("campaign") or None
    language = request.GET.get("language") or None
    if campaign_id and not (campaign_id.isdigit() and int(campaign_id) <= MAX_ID):
        raise Http404(_("No such campaign."))
    campaign = get_object_or_404(Campaign.objects.alive(), pk=campaign_id) if campaign_id else None
    if language and not Language.objects.filter(code=language).exists():
        raise Http404(_("Unknown language."))
    source = request.GET.get("source") or None
    if source and source not in HUMAN:
        raise Http404(_("Unknown source: choose annotation or import."))
    cursors = Cursors(
        tasks=request.GET.get("tasks_cursor"),
        flagged=request.GET.get("flagged_cursor"),
        gold_misses=request.GET.get("gold_misses_cursor"),
        consistency=request.GET.get("consistency_cursor"),
    )
    try:
        report = summary_report(
            campaign_id=campaign.pk if campaign else None, language=language, source=source, cursors=cursors
        )
    except ApplicationError as exc:
        raise Http404(exc.message) from exc
    context = {
        "report": report,
        # Contribution kinds: per contributor and language (the language filter applies; campaigns do not split it).
        "contributors": contributors.stats_with_points(request.user, language=language),
        "moderation": contributors.moderation_list(language=language),
        "moderation_min": settings.CONTRIBUTOR_MODERATION_MIN_DECIDED,
        "moderation_share": settings.CONTRIBUTOR_MODERATION_REJECTED_SHARE,
        "campaign": campaign,
        "language": language,
        "source": source,
        "sources": [(value, Source(value).label) for value in HUMAN],
        "campaigns": Campaign.objects.alive().order_by("name"),
        "languages": selectors.languages_with_tasks(),
        "strings": {"saved": _("Saved.")},
        "next_links": {name: _next_link(request, name, cursor) for name, cursor in report.next.items()},
    }
    return render(request, "feedback/review.html", context)


@reviewer_page
def review_queue_page(request):
    """Reviewers' queue of contributions: flagged translations and disputed votes, oldest first, a page at a time
    from the cursor `after` (an id); each has an override form that static/feedback/review_queue.js posts to
    POST /api/v1/contributions/{id}/override/."""
    after = request.GET.get("after") or None
    if after is not None and not (after.isascii() and after.isdigit() and int(after) <= MAX_ID):
        raise Http404(_("No such page of the queue."))
    rows, next_after = contributors.queue_page(request.user, after=int(after) if after else None)
    context = {
        "rows": rows,
        "next_link": f"?after={next_after}" if next_after else None,
        "first_page": after is None,
        "strings": {
            "accepted": _("Accepted, with your reason. It has left the queue."),
            "rejected": _("Rejected, with your reason. It has left the queue."),
            "needReason": _("Give the reason for the override."),
            "needStatus": _("Choose accept or reject."),
            "empty": _("Nothing waits for a decision on this page."),
        },
    }
    return render(request, "feedback/review_queue.html", context)


def _next_link(request, name: str, cursor: str | None) -> str | None:
    """The page's address with the list's cursor moved on (the other lists' cursors and filters kept)."""
    if cursor is None:
        return None
    query = request.GET.copy()
    query[f"{name}_cursor"] = cursor
    return f"?{query.urlencode()}"


# --- Onboarding (staff) ------------------------------------------------------------------------------
def _submitted(request, form, action):
    """For a valid POST, run `action(cleaned_data)` and return its result; a refusal from the service
    (ApplicationError) goes onto the form as its message. None when nothing was done."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        return action(form.cleaned_data) or True
    except ApplicationError as exc:
        form.add_error(None, exc.message)
        return None


def _codes(languages) -> list[str]:
    return [language.code for language in languages]


@staff_page
def team_page(request):
    """Invite annotators, list them with their languages and campaigns, and the campaigns."""
    form = InviteForm(request.POST or None)
    invitation = _submitted(
        request,
        form,
        lambda data: onboarding.annotator_invite(
            username=data["username"],
            email=data["email"],
            languages=_codes(data["languages"]),
            campaigns=list(data["campaigns"]),
        ),
    )
    if invitation:
        form = InviteForm()
    annotators = (
        User.objects.filter(groups__name=ANNOTATOR, profile__is_external=False)
        .prefetch_related("profile__languages", "campaigns")
        .order_by("username")
    )
    context = {
        "form": form,
        "invitation": invitation,
        "invitation_url": request.build_absolute_uri(invitation.path) if invitation else "",
        "annotators": annotators,
        "campaigns": Campaign.objects.alive().prefetch_related("languages", "annotators").order_by("name"),
    }
    return render(request, "feedback/team.html", context)


@staff_page
def annotator_page(request, pk: int):
    user = get_object_or_404(User, pk=pk, profile__is_external=False)
    initial = {
        "languages": list(user.profile.languages.all()),
        "campaigns": list(user.campaigns.all()),
        "is_active": user.is_active,
    }
    form = AnnotatorForm(request.POST or None, initial=initial)
    saved = _submitted(
        request,
        form,
        lambda data: onboarding.annotator_update(
            user=user,
            languages=_codes(data["languages"]),
            campaigns=list(data["campaigns"]),
            is_active=data["is_active"],
        ),
    )
    if saved:
        messages.success(request, _("Saved."))
        return redirect("team")
    invitation_url = "" if user.has_usable_password() else request.build_absolute_uri(onboarding.invitation_path(user))
    return render(request, "feedback/annotator.html", {"form": form, "member": user, "invitation_url": invitation_url})


@staff_page
def campaign_new_page(request):
    form = CampaignForm(request.POST or None)
    created = _submitted(
        request,
        form,
        lambda data: catalog.campaign_create(
            name=data["name"],
            guidelines=data["guidelines"],
            languages=_codes(data["languages"]),
            overlap=data["overlap"],
            suggestion_judge=data["suggestion_judge"],
            suggestion_holdout=DEFAULT_HOLDOUT if data["suggestion_holdout"] is None else data["suggestion_holdout"],
        ),
    )
    if created:
        messages.success(request, _("Campaign created."))
        return redirect("team")
    return render(request, "feedback/campaign_new.html", {"form": form})


def invite_accept_page(request, uid: str, token: str):
    """An invited annotator sets their password here, and is logged in."""
    user = onboarding.invitation_user(uid, token)
    if user is None:
        return render(request, "feedback/invite_invalid.html", status=404)
    form = AcceptInvitationForm(request.POST or None)
    if _submitted(request, form, lambda data: onboarding.invitation_accept(user=user, **data)):
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("annotate")
    return render(request, "feedback/invite_accept.html", {"form": form, "member": user})
