from django.shortcuts import get_object_or_404, render

from ml.training.config import DPO_LOSSES, Hyperparameters
from ml.training.trainers import kinds, trainer_for
from webapp.feedback import selectors
from webapp.feedback.formats.registry import unpaired_sources
from webapp.feedback.models import Campaign, Language
from webapp.modelstore.models import ModelVariant, VariantStatus
from webapp.permissions import staff_page
from webapp.training.models import TrainingJob, default_eval_generation


@staff_page
def jobs_page(request):
    """Staff: the training jobs with their progress, and the launch form."""
    context = {
        "jobs": TrainingJob.objects.select_related("parent", "variant")[:50],
        "parents": ModelVariant.objects.filter(status=VariantStatus.READY),
        "campaigns": Campaign.objects.alive(),
        "languages": Language.objects.all(),
        "kinds": kinds(),  # the registered trainers (dpo, sft, kto)
        "kto_sources": list(unpaired_sources.items()),  # kto: the unpaired sources, with what each labels
        "defaults": Hyperparameters(),
        "losses": DPO_LOSSES,
        "eval_defaults": default_eval_generation(),
        "prompt_sources": selectors.prompt_sources(),
    }
    return render(request, "training/jobs.html", context)


@staff_page
def job_page(request, pk: int):
    """Staff: one job, live (the page polls the API)."""
    job = get_object_or_404(TrainingJob.objects.select_related("parent", "variant"), pk=pk)
    # A kind that trains on unpaired rows (kto) counts labelled answers where the others count pairs.
    unpaired = job.kind in kinds() and trainer_for(job.kind).eval_rows == "kto"
    return render(request, "training/job.html", {"job": job, "unpaired": unpaired})
