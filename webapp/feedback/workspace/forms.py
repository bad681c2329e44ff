"""Forms of the staff onboarding pages and the invitation page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from webapp.feedback.models import Campaign, Language


def _languages():
    return forms.ModelMultipleChoiceField(
        queryset=Language.objects.order_by("code"), widget=forms.CheckboxSelectMultiple, label=_("Languages")
    )


def _campaigns(required: bool = False):
    return forms.ModelMultipleChoiceField(
        queryset=Campaign.objects.alive().order_by("name"),
        widget=forms.CheckboxSelectMultiple,
        required=required,
        label=_("Campaign pools"),
        help_text=_("A campaign whose pool is empty is open to every annotator of its languages."),
    )


class InviteForm(forms.Form):
    username = forms.CharField(max_length=150, label=_("Username"))
    email = forms.EmailField(required=False, label=_("Email (optional)"))
    languages = _languages()
    campaigns = _campaigns()


class AnnotatorForm(forms.Form):
    languages = _languages()
    campaigns = _campaigns()
    is_active = forms.BooleanField(required=False, label=_("Active (may log in and annotate)"))


def judge_choices() -> list[tuple[str, str]]:
    """ "" (no suggestions) and every registered judge, NAME@VERSION."""
    from webapp.feedback.extensions import judges
    from webapp.feedback.sources import judge_origin

    registered = sorted(judge_origin(entry.name, entry.version) for _, entry in judges.items())
    return [("", _("None: annotators start from the order shown")), *((origin, origin) for origin in registered)]


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=200, label=_("Name"))
    guidelines = forms.CharField(widget=forms.Textarea, required=False, label=_("Guidelines (Markdown)"))
    languages = _languages()
    overlap = forms.IntegerField(
        min_value=1, max_value=50, initial=2, label=_("Overlap"), help_text=_("Distinct annotators per task")
    )
    suggestion_judge = forms.ChoiceField(
        choices=judge_choices,
        required=False,
        label=_("Suggested starting order"),
        help_text=_(
            "Show annotators this judge's ranking as the starting order of the tasks it has ranked. The review "
            "page then reports how often annotators keep it (anchoring)."
        ),
    )
    suggestion_holdout = forms.FloatField(
        min_value=0,
        max_value=1,
        initial=0.2,
        required=False,
        label=_("Share of tasks shown without the suggestion"),
        help_text=_("From 0 to 1. These tasks measure agreement with the judge without anchoring."),
    )


class AcceptInvitationForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput, label=_("Password"), strip=False)
    password_again = forms.CharField(widget=forms.PasswordInput, label=_("Password again"), strip=False)
