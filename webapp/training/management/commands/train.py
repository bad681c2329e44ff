import json

from django.core.management.base import BaseCommand, CommandError

from webapp.errors import ApplicationError
from webapp.modelstore.models import ModelVariant
from webapp.training.models import TrainingJob
from webapp.training.services import training_job_create, training_run


class Command(BaseCommand):
    help = "Train a DPO or SFT LoRA adapter on the collected preferences and register it as a variant."

    def add_arguments(self, parser):
        parser.add_argument("--kind", choices=("dpo", "sft"), required=True)
        parser.add_argument("--parent", required=True, help="parent variant name")
        parser.add_argument("--source", action="append", dest="sources", default=[])
        parser.add_argument("--campaign", action="append", dest="campaigns", default=[])
        parser.add_argument("--language", action="append", dest="languages", default=[])
        parser.add_argument("--pairs", default="best_vs_rest")
        parser.add_argument("--min-agreement", type=float, default=0.5)
        parser.add_argument("--min-annotators", type=int, default=1)
        parser.add_argument("--trust-weighting", action="store_true")
        parser.add_argument("--eval-fraction", type=float, default=0.1)
        parser.add_argument(
            "--hp", default="{}", help='hyperparameters as JSON, e.g. \'{"max_steps": 50, "beta": 0.1}\''
        )
        parser.add_argument("--background", action="store_true", help="queue it for a gpu worker instead")

    def handle(self, *args, **o):
        parent = ModelVariant.objects.filter(name=o["parent"]).first()
        if parent is None:
            raise CommandError(f"No variant named {o['parent']!r}")
        try:
            hp = json.loads(o["hp"])
        except json.JSONDecodeError as exc:
            raise CommandError(f"--hp is not JSON: {exc}") from None
        data = {
            "sources": o["sources"],
            "campaigns": o["campaigns"],
            "languages": o["languages"],
            "pairs": o["pairs"],
            "min_agreement": o["min_agreement"],
            "min_annotators": o["min_annotators"],
            "trust_weighting": o["trust_weighting"],
            "eval_fraction": o["eval_fraction"],
        }
        try:
            job = training_job_create(
                kind=o["kind"], parent=parent, data=data, hyperparameters=hp, user=None, enqueue=o["background"]
            )
        except ApplicationError as exc:
            counts = exc.extra.get("counts")
            raise CommandError(exc.message + (f"\ncounts: {json.dumps(counts)}" if counts else "")) from None
        if o["background"]:
            self.stdout.write(f"Queued training job {job.pk}.")
            return
        training_run(job.pk)
        job = TrainingJob.objects.select_related("variant").get(pk=job.pk)
        if job.status != "succeeded":
            raise CommandError(f"Training {job.status}: {job.error}")
        overall = job.evaluation.get("all", {})
        self.stdout.write(
            f"Registered {job.variant.name}: held-out accuracy {overall.get('accuracy', 0):.3f} "
            f"(parent {overall.get('parent_accuracy', 0):.3f}, n={overall.get('n', 0)})"
        )
