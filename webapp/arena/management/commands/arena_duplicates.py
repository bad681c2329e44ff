"""`manage.py arena_duplicates`: group the frequent arena prompts that translate one another now (a periodic
task does it every ARENA_DUPLICATE_SECONDS), so the high-frequency prompt cap counts each group as one prompt."""

from django.core.management.base import BaseCommand, CommandError

from webapp.arena.duplicates import prompt_groups_build
from webapp.errors import ApplicationError


class Command(BaseCommand):
    help = "Group arena prompts that are translations of one another, for vote hygiene's prompt cap."

    def handle(self, *args, **options):
        try:
            found = prompt_groups_build()
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"{found['prompts_embedded']} frequent prompts embedded; {found['prompts_grouped']} of them in "
            f"{found['groups']} groups"
        )
