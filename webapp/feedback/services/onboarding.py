"""Staff bring annotators in: an invitation link that sets the password, languages and campaign
pools, deactivation. Invitation tokens are Django's password-reset tokens: signed, expiring after
PASSWORD_RESET_TIMEOUT, and spent as soon as the password is set (the token hashes the password)."""

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _

from webapp.audit import services as audit
from webapp.errors import ApplicationError
from webapp.feedback.models import Campaign
from webapp.feedback.services.catalog import annotator_set_languages
from webapp.permissions import ANNOTATOR, role_group


@dataclass(frozen=True)
class Invitation:
    user: User
    path: str  # /invite/<uid>/<token>/ : prepend the site's address


def invitation_path(user: User) -> str:
    if user.has_usable_password():
        raise ApplicationError(
            _("%(username)s has already set a password; they log in as usual.") % {"username": user.username}
        )
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("invite-accept", kwargs={"uid": uid, "token": default_token_generator.make_token(user)})


@transaction.atomic
def annotator_invite(
    *, username: str, email: str = "", languages: list[str], campaigns: list[Campaign] | None = None
) -> Invitation:
    username = username.strip()
    if not username:
        raise ApplicationError(_("username is required"))
    if User.objects.filter(username__iexact=username).exists():
        raise ApplicationError(_("The username %(username)s is taken.") % {"username": repr(username)})
    if not languages:
        raise ApplicationError(_("Choose at least one language the annotator ranks in."))
    user = User(username=username, email=email.strip())
    user.set_unusable_password()
    user.save()
    user.groups.add(role_group(ANNOTATOR))
    annotator_set_languages(user=user, languages=languages)
    for campaign in campaigns or []:
        campaign.annotators.add(user)
    return Invitation(user=user, path=invitation_path(user))


def invitation_user(uid: str, token: str) -> User | None:
    """The invited user whose link this is, or None when the link is wrong, expired or spent."""
    try:
        user = User.objects.get(pk=int(urlsafe_base64_decode(uid).decode()))
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        return None
    if not user.is_active or user.has_usable_password() or not default_token_generator.check_token(user, token):
        return None
    return user


def invitation_accept(*, user: User, password: str, password_again: str) -> User:
    if password != password_again:
        raise ApplicationError(_("The two passwords differ."))
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ApplicationError(" ".join(exc.messages)) from None
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


@transaction.atomic
def annotator_update(*, user: User, languages: list[str], campaigns: list[Campaign], is_active: bool) -> User:
    """Set an annotator's languages, campaign pools (of the campaigns listed on the page) and whether
    they may log in. Deactivating keeps every annotation they made."""
    if user.is_staff and not is_active:
        raise ApplicationError(_("Staff accounts are deactivated in the admin, not here."))
    annotator_set_languages(user=user, languages=languages)
    for campaign in Campaign.objects.alive():
        if campaign in campaigns:
            campaign.annotators.add(user)
        else:
            campaign.annotators.remove(user)
    if user.is_active != is_active:
        audit.record(action="user.activate" if is_active else "user.deactivate", target=user)
    user.is_active = is_active
    user.save(update_fields=["is_active"])
    return user
