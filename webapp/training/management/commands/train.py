r"""`manage.py train`: launch a LoRA run of a registered trainer kind (DPO, SFT, KTO) from the shell, in-process
or queued for a worker.

Every field of `ml.training.config.Hyperparameters` is a flag of its own (built by `ml.training.cli`,
so a new field needs no change here); `--hp` JSON still works and explicit flags win over its keys:

    .venv/bin/python manage.py train --kind dpo --parent base --language en \
        --hp '{"max_steps": 50}' --learning-rate 1e-4 --beta 0.2 --lora-targets q_proj v_proj --background
"""

import json

from django.core.management.base import BaseCommand, CommandError

from ml.training.cli import add_dataclass_arguments, given_fields
from ml.training.config import ConfigError, Hyperparameters, check_kind
from ml.training.trainers import kinds
from webapp.errors import ApplicationError
from webapp.modelstore.models import ModelVariant
from webapp.training.models import TrainingJob
from webapp.training.services import training_job_create, training_preview, training_run


class Command(BaseCommand):
    help = (
        "Train a DPO, SFT or KTO LoRA adapter on the collected preferences and register it as a variant. "
        "Hyperparameters come from the dataclass defaults, then --hp JSON, then the explicit flags. "
        "Example: manage.py train --kind dpo --parent base --max-steps 50 --learning-rate 1e-4 --background"
    )

    def add_arguments(self, parser):
        parser.add_argument("--kind", choices=kinds(), required=True)
        parser.add_argument("--parent", required=True, help="parent variant name")
        parser.add_argument("--source", action="append", dest="sources", default=[], help="none: all but judge")
        parser.add_argument("--origin", action="append", dest="origins", default=[], help="rankings, pairs, oasst, ...")
        parser.add_argument("--campaign", action="append", dest="campaigns", default=[])
        parser.add_argument("--language", action="append", dest="languages", default=[])
        parser.add_argument("--pairs", default="best_vs_rest")
        parser.add_argument("--min-agreement", type=float, default=0.5)
        parser.add_argument("--min-annotators", type=int, default=1)
        parser.add_argument("--trust-weighting", action="store_true")
        parser.add_argument("--eval-fraction", type=float, default=0.1)
        parser.add_argument(
            "--kto-sources",
            default="",
            help="kto: unpaired sources, comma-separated (arena,ranking,verify,flags); none: all",
        )
        parser.add_argument(
            "--judge",
            action="append",
            dest="judges",
            default=[],
            help="NAME@VERSION of a judge whose labels may enter, in each language where it passes the gate",
        )
        parser.add_argument(
            "--judge-min-agreement", type=float, default=None, help="the gate's agreement with people (default 0.8)"
        )
        parser.add_argument(
            "--judge-min-items", type=int, default=None, help="the gate's tasks compared with people (default 20)"
        )
        parser.add_argument(
            "--system-prompt",
            default=None,
            help="first message of every training conversation, served with the new variant (default: the parent's)",
        )
        parser.add_argument(
            "--hp",
            default="{}",
            help='hyperparameters as JSON, e.g. \'{"max_steps": 50, "beta": 0.1}\'; the flags below win over its keys',
        )
        parser.add_argument("--background", action="store_true", help="queue it for a gpu worker instead")
        add_dataclass_arguments(parser, Hyperparameters, title="hyperparameters")

    def handle(self, *args, **o):
        hp = _hyperparameters(o)
        try:
            check_kind(o["kind"], Hyperparameters.from_dict(hp))
        except ConfigError as exc:
            raise CommandError(f"hyperparameters.{exc.field}: {exc.message}") from None
        parent = ModelVariant.objects.filter(name=o["parent"]).first()
        if parent is None:
            raise CommandError(f"No variant named {o['parent']!r}")
        data = {
            "sources": o["sources"],
            "origins": o["origins"],
            "campaigns": o["campaigns"],
            "languages": o["languages"],
            "pairs": o["pairs"],
            "min_agreement": o["min_agreement"],
            "min_annotators": o["min_annotators"],
            "trust_weighting": o["trust_weighting"],
            "eval_fraction": o["eval_fraction"],
        }
        if o["kto_sources"]:
            if o["kind"] != "kto":
                raise CommandError("--kto-sources needs --kind kto")
            data["kto_sources"] = [name.strip() for name in o["kto_sources"].split(",") if name.strip()]
        if o["judges"]:
            data["judges"] = o["judges"]
        for key in ("judge_min_agreement", "judge_min_items"):
            if o[key] is not None:
                data[key] = o[key]
        try:
            counted = training_preview(data=data, kind=o["kind"])
            job = training_job_create(
                kind=o["kind"],
                parent=parent,
                data=data,
                hyperparameters=hp,
                user=None,
                enqueue=o["background"],
                system_prompt=o["system_prompt"],
                preview=counted["token"],
            )
        except ApplicationError as exc:
            counts = exc.extra.get("counts")
            raise CommandError(exc.message + (f"\ncounts: {json.dumps(counts)}" if counts else "")) from None
        at_least = "at least " if counted["approximate"] else ""
        self.stdout.write(
            f"Selected {at_least}{counted['train_pairs']} training and {counted['eval_pairs']} held-out "
            f"{'labelled answers' if o['kind'] == 'kto' else 'pairs'} "
            f"(as of now; the job trains on the data as of its launch)."
        )
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


def _hyperparameters(options: dict) -> dict:
    """--hp JSON overlaid with the flags actually given, checked by the dataclass before anything
    touches the database, so a typo fails at once with the field's name."""
    try:
        blob = json.loads(options["hp"])
    except json.JSONDecodeError as exc:
        raise CommandError(f"--hp is not JSON: {exc}") from None
    if not isinstance(blob, dict):
        raise CommandError(f"--hp must be a JSON object of settings, not {type(blob).__name__}")
    hp = {**blob, **given_fields(options, Hyperparameters)}
    try:
        Hyperparameters.from_dict(hp)
    except ConfigError as exc:
        raise CommandError(f"hyperparameters.{exc.field}: {exc.message}") from None
    return hp
