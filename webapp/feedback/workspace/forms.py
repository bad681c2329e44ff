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


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=200, label=_("Name"))
    guidelines = forms.CharField(widget=forms.Textarea, required=False, label=_("Guidelines (Markdown)"))
    languages = _languages()
    overlap = forms.IntegerField(
        min_value=1, max_value=50, initial=2, label=_("Overlap"), help_text=_("Distinct annotators per task")
    )


class AcceptInvitationForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput, label=_("Password"), strip=False)
    password_again = forms.CharField(widget=forms.PasswordInput, label=_("Password again"), strip=False)
