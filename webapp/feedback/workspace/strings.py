"""Every string the workspace script shows, translated on the server (Django i18n) and handed to
the page as JSON, so the script holds no English of its own."""

from django.utils.translation import gettext as _


def workspace_strings() -> dict[str, str]:
    return {
        "loading": _("Loading the next task…"),
        "empty": _("No task needs you right now in your languages. Thank you!"),
        "response": _("Response %(label)s"),
        "rank": _("Rank %(rank)s"),
        "tied": _("tied"),
        "cardLabel": _("Response %(label)s, rank %(rank)s"),
        "cardLabelTied": _("Response %(label)s, rank %(rank)s, tied"),
        "moved": _("Response %(label)s is now at rank %(rank)s."),
        "tiedWith": _("Response %(label)s is now tied at rank %(rank)s."),
        "untied": _("Response %(label)s has its own rank again: %(rank)s."),
        "cannotTie": _("The first response has no rank above it to tie with."),
        "tieButton": _("Tie with the one above"),
        "untieButton": _("Untie"),
        "needRanking": _(
            "Put the responses in order first: tap them best first, drag them, or focus one and press a number key."
        ),
        "pickButton": _("Choose as no. %(rank)s"),
        "unpickButton": _("No. %(rank)s · undo"),
        "unpicked": _("Response %(label)s is no longer chosen; the ones below it moved up."),
        "submitting": _("Submitting…"),
        "submitted": _("Submitted. Next task…"),
        "networkError": _("Could not reach the server. Your ranking is still here: try again."),
        "conflict": _("This task was already submitted with a different ranking (another tab?). Loading the next one."),
        "leaseLost": _("Your hold on this task ended and others filled it. Loading the next one."),
        "skipped": _("Skipped. Next task…"),
        "progress": _("%(today)s done today · %(total)s in total · %(remaining)s left in your languages"),
        "related": {
            "title": _("Related items in other languages"),
            "empty": _("No related items yet."),
            "similarity": _("similarity"),
            "consensus": _("Consensus best answer: "),
            "afterSubmit": _("Consensus is shown after you submit."),
            "unavailable": _("Related items unavailable"),
        },
        "relatedPrevious": _("Your last task: related items in other languages, with their consensus"),
        "suggested": _(
            "The cards start in an order suggested by an automatic judge. Check it and change anything you "
            "disagree with; submit it as it is only if you agree."
        ),
    }
