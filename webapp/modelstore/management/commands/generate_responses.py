from django.core.management.base import BaseCommand, CommandError

from webapp.errors import ApplicationError
from webapp.feedback.models import Campaign
from webapp.modelstore.generation import generation_job_create
from webapp.modelstore.jobs import model_job_run
from webapp.modelstore.models import ModelJob, ModelVariant


class Command(BaseCommand):
    help = "Generate responses for prompts x variants x samples and build ranking tasks from them."

    def add_arguments(self, parser):
        parser.add_argument("--variant", action="append", dest="variants", required=True, help="variant name")
        parser.add_argument("--campaign", required=True, help="campaign (name) that receives the tasks")
        parser.add_argument("--language", action="append", dest="languages", default=[])
        parser.add_argument("--source", action="append", dest="sources", default=[])
        parser.add_argument("--prompt", action="append", dest="prompts", type=int, default=[])
        parser.add_argument("--samples", type=int, default=2)
        parser.add_argument("--temperature", type=float, default=0.8)
        parser.add_argument("--max-new-tokens", type=int, default=256)
        parser.add_argument("--responses-per-task", type=int, default=4)
        parser.add_argument("--background", action="store_true", help="queue it for a gpu worker instead")

    def handle(self, *args, **o):
        variants = {v.name: v.pk for v in ModelVariant.objects.filter(name__in=o["variants"])}
        missing = sorted(set(o["variants"]) - set(variants))
        campaign = Campaign.objects.alive().filter(name=o["campaign"]).first()
        if missing or campaign is None:
            raise CommandError(f"Unknown variant(s) {missing}" if missing else f"No campaign {o['campaign']!r}")
        params = {
            "variants": list(variants.values()),
            "campaign": campaign.pk,
            "languages": o["languages"],
            "sources": o["sources"],
            "prompts": o["prompts"],
            "samples": o["samples"],
            "temperature": o["temperature"],
            "max_new_tokens": o["max_new_tokens"],
            "responses_per_task": o["responses_per_task"],
        }
        try:
            job = generation_job_create(params=params, user=None, enqueue=o["background"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        if o["background"]:
            self.stdout.write(f"Queued generation job {job.pk}.")
            return
        model_job_run(job.pk)
        job = ModelJob.objects.get(pk=job.pk)
        if job.status != "succeeded":
            raise CommandError(f"Generation failed: {job.error}")
        self.stdout.write(f"{job.result['responses']} responses, {job.result['tasks_created']} tasks created.")
