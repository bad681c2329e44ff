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
        "contribute": contribute_strings(),
        "suggested": _(
            "The cards start in an order suggested by an automatic judge. Check it and change anything you "
            "disagree with; submit it as it is only if you agree."
        ),
    }


def contribute_strings() -> dict:
    """The contribute flows' strings (static/feedback/contribute.js), by campaign kind where they differ."""
    return {
        "titles": {
            "write": _("Write the answer"),
            "reply": _("Reply as the user"),
            "edit": _("Improve the answer"),
            "translate": _("Translate the prompt"),
            "verify": _("Check a contribution"),
        },
        "hints": {
            "write": _("Write the answer you would want to get, in the language shown."),
            "reply": _("Continue the conversation as the user would: your next message to the assistant."),
            "edit": _("Fix what is wrong in the answer: facts, language, tone. Small changes are not enough."),
            "translate": _("Translate the prompt faithfully into the language shown; keep its meaning and tone."),
            "verify": _("Is this a good contribution? Vote up or down; a reason helps the contributor."),
        },
        "sourceHeading": {
            "write": _("Prompt"),
            "reply": _("Conversation so far"),
            "edit": _("Prompt"),
            "translate": _("Text to translate"),
            "verify": _("Prompt"),
        },
        "textLabel": {
            "write": _("Your answer"),
            "reply": _("Your reply, as the user"),
            "edit": _("Your improved answer"),
            "translate": _("Your translation"),
        },
        "roles": {"user": _("User"), "assistant": _("Assistant"), "system": _("System")},
        "from": _("From %(language)s"),
        "into": _("Into %(language)s"),
        "changed": _("Characters changed: %(n)s (at least %(m)s needed)"),
        "changedAtLeast": _("Characters changed: at least %(n)s (at least %(m)s needed)"),
        "needText": _("Write something first: the text is empty."),
        "needVerdict": _("Choose up or down first (U or D)."),
        "draftRestored": _("Your unsent draft for this task was restored."),
        # Translators: a place on the contributors' leaderboard of one language, e.g. "2 of 7".
        "rankOf": _("%(rank)s of %(n)s"),
        "networkError": _(
            "Could not reach the server. Your text is kept in this page (and restored if you reload): try again."
        ),
    }
