from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from webapp.pages.loop_story import LoopStory, StoryError, prepare_accounts


class Command(BaseCommand):
    help = (
        "Play the whole feedback loop against the running app (make run), step by step: campaign, "
        "generation, annotation, review, DPO, arena battles, a second DPO on annotations + arena votes, "
        "leaderboard, exports. Watch it on /, /review/, /jobs/, /models/ and /arena/ while it runs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="the running app")
        parser.add_argument("--base-model", default="", help="base variant name (default: the first installed base)")
        parser.add_argument("--steps", type=int, default=8, help="optimizer steps per DPO job")
        parser.add_argument("--max-new-tokens", type=int, default=48)
        parser.add_argument("--battles", type=int, default=6)
        parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for each job")

    def handle(self, *args, url, base_model, steps, max_new_tokens, battles, timeout, **options):
        from webapp.modelstore.models import ModelVariant, VariantKind, VariantStatus

        if not base_model:
            base = ModelVariant.objects.filter(kind=VariantKind.BASE, status=VariantStatus.READY).first()
            if base is None:
                raise CommandError("No base model installed: python manage.py install_base_model")
            base_model = base.name
        try:
            staff_token, annotators = prepare_accounts()
            story = LoopStory(
                base_url=url.rstrip("/"),
                staff_token=staff_token,
                annotator_tokens=annotators,
                base_model=base_model,
                campaign_name=f"Loop story {timezone.now():%Y-%m-%d %H:%M:%S}",
                max_new_tokens=max_new_tokens,
                train_steps=steps,
                battles=battles,
                timeout=timeout,
                say=self.stdout.write,
            )
            result = story.play()
        except StoryError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Loop closed: {result.annotations} rankings, {len(result.votes)} arena votes, variants "
                f"{result.first_job['variant']} and {result.second_job['variant']}. See {url}/ and {url}/arena/."
            )
        )
