"""The three roles (docs/operations.md, "Roles"). Annotators and reviewers are Django groups; staff is `is_staff`."""

from django.contrib.auth.models import Group, User

ANNOTATOR = "annotator"
REVIEWER = "reviewer"


def is_staff(user: User) -> bool:
    return bool(user and user.is_authenticated and (user.is_staff or user.is_superuser))


def is_reviewer(user: User) -> bool:
    """Reviewers see every annotation; staff are reviewers too."""
    return is_staff(user) or (user.is_authenticated and user.groups.filter(name=REVIEWER).exists())


def role_group(name: str) -> Group:
    group, _ = Group.objects.get_or_create(name=name)
    return group
