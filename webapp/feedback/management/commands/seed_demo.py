from django.core.management.base import BaseCommand, CommandError

from webapp.errors import ApplicationError
from webapp.feedback.demo import CAMPAIGN_NAME, demo_seed


class Command(BaseCommand):
    help = (
        f"Create the demo campaign {CAMPAIGN_NAME!r} with multilingual prompts, demo annotators and some rankings,"
        " contribution campaigns with some contributions and votes, and the parts other apps add (arena battles)."
    )

    def handle(self, *args, **options):
        try:
            counts = demo_seed()
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        if counts["already_seeded"]:
            self.stdout.write("Demo data already present; nothing to do.")
            return
        self.stdout.write(self.style.SUCCESS(f"Demo data created: {'; '.join(_parts(counts))}."))


RANKING = ("campaigns", "prompts", "languages", "groups", "responses", "tasks", "annotators", "annotations")
CONTRIBUTING = ("contribution_campaigns", "contributions", "verdicts")


def _parts(counts: dict) -> list[str]:
    """What was created, part by part; a registered seeder's counts by their names ("10 battles")."""
    parts = []
    if counts["campaigns"]:
        parts.append(
            f"campaign {CAMPAIGN_NAME!r}, {counts['prompts']} prompts in {counts['languages']} languages"
            f" ({counts['groups']} translation groups), {counts['responses']} responses, {counts['tasks']} tasks,"
            f" {counts['annotators']} annotators, {counts['annotations']} annotations"
        )
    if counts["contribution_campaigns"]:
        parts.append(
            f"{counts['contribution_campaigns']} contribution campaigns with {counts['contributions']} contributions"
            f" and {counts['verdicts']} verify votes"
        )
    others = {what: n for what, n in counts.items() if what not in ("already_seeded", *RANKING, *CONTRIBUTING)}
    parts.extend(f"{n} {what.replace('_', ' ')}" for what, n in others.items() if n)
    return parts
