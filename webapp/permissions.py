"""Who may do what, for every app: the three roles (annotator, reviewer, staff) and the DRF
permission classes built on them. Annotators and reviewers are Django groups; staff is `is_staff`."""

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import permissions
from rest_framework.request import Request

if TYPE_CHECKING:  # rest_framework.views loads the authentication classes, which import this module
    from rest_framework.views import APIView

ANNOTATOR = "annotator"
REVIEWER = "reviewer"


def is_staff(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return bool(getattr(user, "is_staff", False) or getattr(user, "is_superuser", False))


# Token authentication reads the reviewer flag with the token (`reviewer_flag`) and leaves it on the request's user
# object; a user without it (a session, a script) is asked each time, so a role just granted counts at once.
REVIEWER_FLAG = "_is_reviewer"


def reviewer_flag(user_ref: str = "user") -> Exists:
    """Whether the user that `user_ref` (a field path from the queried model) names is in the reviewer group, as an
    expression to annotate a query with, so the role costs no query of its own."""
    return Exists(Group.objects.filter(name=REVIEWER, user=OuterRef(user_ref)))


def is_reviewer(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    """Reviewers see every annotation; staff are reviewers too."""
    if user is None or not user.is_authenticated:
        return False
    if is_staff(user):
        return True
    if hasattr(user, REVIEWER_FLAG):
        return bool(getattr(user, REVIEWER_FLAG))
    # AbstractBaseUser declares no `groups`; the project's user model (auth.User) has them.
    return user.groups.filter(name=REVIEWER).exists()  # type: ignore[attr-defined]


def role_group(name: str) -> Group:
    group, _created = Group.objects.get_or_create(name=name)
    return group


class IsStaff(permissions.BasePermission):
    message = gettext_lazy("Only staff can do this.")

    def has_permission(self, request: Request, view: "APIView") -> bool:
        return is_staff(request.user)


class IsReviewer(permissions.BasePermission):
    message = gettext_lazy("Only reviewers can do this.")

    def has_permission(self, request: Request, view: "APIView") -> bool:
        return is_reviewer(request.user)


class StaffWrites(permissions.BasePermission):
    """Everyone signed in reads (what their role lets them see); staff write."""

    message = gettext_lazy("Only staff can change this.")

    def has_permission(self, request: Request, view: "APIView") -> bool:
        if not request.user.is_authenticated:
            return False
        return request.method in permissions.SAFE_METHODS or is_staff(request.user)


# --- Pages ----------------------------------------------------------------------------------------
# One login page for every page (/accounts/login/, settings.LOGIN_URL), staff pages included; a signed-in
# user without the role gets a 403 page that says so, not a login form they cannot pass.
View = Callable[..., HttpResponse]


def _page_for(test: Callable[[AbstractBaseUser | AnonymousUser], bool], refusal: Callable[[], str]):
    def decorator(view: View) -> View:
        @wraps(view)
        def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not test(request.user):
                raise PermissionDenied(refusal())
            return view(request, *args, **kwargs)

        return guarded

    return decorator


staff_page = _page_for(is_staff, lambda: _("This page is for staff. Ask an administrator if you need it."))
reviewer_page = _page_for(is_reviewer, lambda: _("This page is for reviewers and staff."))
