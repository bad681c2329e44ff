from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import get_object_or_404, render

from webapp.feedback.models import Campaign, Language
from webapp.modelstore.models import ModelJob, ModelVariant
from webapp.modelstore.selectors import variant_detail


@staff_member_required
def models_page(request):
    """Staff page: the variants, installing the base model, launching generation, watching jobs."""
    context = {
        "variants": ModelVariant.objects.select_related("parent"),
        "jobs": ModelJob.objects.all()[:20],
        "campaigns": Campaign.objects.alive(),
        "languages": Language.objects.all(),
    }
    return render(request, "modelstore/models.html", context)


@staff_member_required
def variant_page(request, pk: int):
    """One variant: lineage (parents, job, data by source and language, parameters), evaluation per
    language, arena rating per language, and enrol / withdraw."""
    variant = get_object_or_404(ModelVariant.objects.select_related("parent"), pk=pk)
    return render(request, "modelstore/variant.html", {"detail": variant_detail(variant)})
