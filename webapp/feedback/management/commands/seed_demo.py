from django.core.management.base import BaseCommand, CommandError

from webapp.errors import ApplicationError
from webapp.feedback.demo import CAMPAIGN_NAME, demo_seed


class Command(BaseCommand):
    help = f"Create the demo campaign {CAMPAIGN_NAME!r} with multilingual prompts, demo annotators and some rankings."

    def handle(self, *args, **options):
        try:
            counts = demo_seed()
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        if counts["already_seeded"]:
            self.stdout.write("Demo data already present; nothing to do.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data created: campaign {CAMPAIGN_NAME!r}, {counts['prompts']} prompts in {counts['languages']}"
                f" languages ({counts['groups']} translation groups), {counts['responses']} responses,"
                f" {counts['tasks']} tasks, {counts['annotators']} annotators, {counts['annotations']} annotations."
            )
        )
