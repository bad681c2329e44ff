from django.shortcuts import render

from webapp.feedback.models import Campaign, Language
from webapp.modelstore.models import ModelJob, ModelVariant
from webapp.permissions import staff_page


@staff_page
def models_page(request):
    """Staff page: the variants, installing the base model, launching generation, watching jobs."""
    context = {
        "variants": ModelVariant.objects.select_related("parent"),
        "jobs": ModelJob.objects.all()[:20],
        "campaigns": Campaign.objects.alive(),
        "languages": Language.objects.all(),
    }
    return render(request, "modelstore/models.html", context)
