"""Registering and installing model variants, and turning a variant into something servable."""

from collections.abc import Callable
from pathlib import Path
from typing import cast

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from ml.llm.files import folder_size, is_complete
from ml.llm.params import VariantRef
from webapp.errors import ApplicationError
from webapp.jobs.models import JobStatus
from webapp.jobs.services import job_enqueue
from webapp.modelstore.models import ADAPTER_KINDS, ModelJob, ModelJobKind, ModelVariant, VariantKind, VariantStatus
from webapp.modelstore.signals import variant_registered

INHERIT = object()  # variant_register's default system prompt: see _system_prompt

BUNDLED = "bundled:smollm2-135m-instruct"


def store_path(relative: str) -> Path:
    return Path(settings.MODELS_STORE) / relative


def base_name_for(source: str) -> str:
    if source == BUNDLED:
        return "smollm2-135m-instruct"
    return slugify(source.rstrip("/").split("/")[-1].replace(".", "-"))[:100] or "base-model"


def variant_for_source(source: str) -> ModelVariant | None:
    return ModelVariant.objects.filter(kind=VariantKind.BASE, source=source).first()


def base_install(
    *, source: str | None = None, on_progress: Callable[..., object] | None = None
) -> tuple[ModelVariant, bool]:
    """Install a base model (the bundled SmolLM2 by default, else a hub id or local folder) and
    register it. Returns (variant, installed_now); a second call for the same source does nothing."""
    from ml.llm.install import bundled_gguf, convert_gguf, copy_pretrained

    source = source or settings.BASE_MODEL or BUNDLED
    existing = variant_for_source(source)
    if existing and existing.status == VariantStatus.READY and is_complete(store_path(existing.path)):
        return existing, False
    installed_now = not is_complete(store_path(f"base/{base_name_for(source)}"))
    name = base_name_for(source)
    relative = f"base/{name}"
    variant, _created = ModelVariant.objects.update_or_create(
        name=name,
        defaults={"kind": VariantKind.BASE, "source": source, "path": relative, "status": VariantStatus.INSTALLING},
        create_defaults={
            "kind": VariantKind.BASE,
            "source": source,
            "path": relative,
            "status": VariantStatus.INSTALLING,
            "system_prompt": settings.SYSTEM_PROMPT,
        },
    )
    try:
        if is_complete(store_path(relative)):
            pass  # complete files already there (shared storage, or a database reset): register them
        elif source == BUNDLED:
            convert_gguf(bundled_gguf(), store_path(relative))
        else:
            copy_pretrained(source, store_path(relative))
    except Exception as exc:
        ModelVariant.objects.filter(pk=variant.pk).update(status=VariantStatus.FAILED)
        raise ApplicationError(
            _("Installing %(source)s failed: %(problem)s") % {"source": source, "problem": exc}
        ) from exc
    with transaction.atomic():
        ModelVariant.objects.filter(pk=variant.pk).update(
            status=VariantStatus.READY, size_bytes=folder_size(store_path(relative))
        )
        variant_registered.send_robust(sender=ModelVariant, variant_id=variant.pk)
    variant.refresh_from_db()
    return variant, installed_now


@transaction.atomic
def variant_register(
    *,
    name: str,
    kind: str,
    path: str,
    parent: ModelVariant | None = None,
    source: str = "",
    lineage: dict | None = None,
    metrics: dict | None = None,
    system_prompt: str | None | object = INHERIT,
) -> ModelVariant:
    """Register files that are already complete under MODELS_STORE (training writes them first).
    The system prompt (ml/llm/chat.py) is fixed here: by default a base model gets the SYSTEM_PROMPT
    setting and any other variant its parent's; a training job passes its own."""
    if kind not in VariantKind.values:
        raise ApplicationError(_("kind must be one of %(choices)s") % {"choices": ", ".join(VariantKind.values)})
    if kind in ADAPTER_KINDS and (parent is None or parent.is_adapter):
        raise ApplicationError(_("An adapter needs a full-model parent (a base or a merged variant)."))
    if not is_complete(store_path(path)):
        raise ApplicationError(_("%(path)s is not a complete model folder under MODELS_STORE.") % {"path": path})
    if ModelVariant.objects.filter(name=name).exists():
        raise ApplicationError(_("A variant named %(name)s exists already.") % {"name": repr(name)})
    variant = ModelVariant.objects.create(
        name=name,
        kind=kind,
        path=path,
        parent=parent,
        source=source,
        status=VariantStatus.READY,
        size_bytes=folder_size(store_path(path)),
        lineage=lineage or {},
        metrics=metrics or {},
        system_prompt=_system_prompt(kind, parent) if system_prompt is INHERIT else cast(str | None, system_prompt),
    )
    variant_registered.send_robust(sender=ModelVariant, variant_id=variant.pk)
    return variant


def _system_prompt(kind: str, parent: ModelVariant | None) -> str | None:
    if kind == VariantKind.BASE or parent is None:
        return settings.SYSTEM_PROMPT
    return parent.system_prompt


def variant_ref(variant: ModelVariant) -> VariantRef:
    """What the inference backends need. Only ready variants with complete files are servable."""
    if variant.status != VariantStatus.READY or not is_complete(store_path(variant.path)):
        raise ApplicationError(
            _("Variant %(name)s is not ready (its files are missing or incomplete).") % {"name": repr(variant.name)}
        )
    if not variant.is_adapter:
        return VariantRef(variant.name, str(store_path(variant.path)), system_prompt=variant.system_prompt)
    parent = variant.parent
    if parent is None or parent.is_adapter:
        raise ApplicationError(_("Variant %(name)s needs a full-model parent.") % {"name": repr(variant.name)})
    return VariantRef(
        variant.name, variant_ref(parent).model_path, str(store_path(variant.path)), variant.system_prompt
    )


@transaction.atomic
def variant_set_enrolled(*, variant: ModelVariant, enrolled: bool) -> ModelVariant:
    if enrolled:
        variant_ref(variant)  # only servable variants enter the arena
    ModelVariant.objects.filter(pk=variant.pk).update(enrolled_in_arena=enrolled)
    variant.refresh_from_db()
    return variant


@transaction.atomic
def install_job_create(*, source: str | None, user: User | None) -> tuple[ModelJob, bool]:
    """Queue an install of `source` (empty: the configured default). Returns (job, queued_now): an
    install of the same model already queued or running is returned as it is, and so is the last
    install of a model already installed (one finished row is written when it was installed by the
    command line), so repeated requests never pile up jobs."""
    resolved = source or settings.BASE_MODEL or BUNDLED
    installs = ModelJob.objects.filter(kind=ModelJobKind.INSTALL, params__source=resolved).order_by("-pk")
    pending = installs.filter(status__in=(JobStatus.QUEUED, JobStatus.RUNNING)).first()
    if pending is not None:
        return pending, False
    variant = variant_for_source(resolved)
    if variant and variant.status == VariantStatus.READY and is_complete(store_path(variant.path)):
        done = installs.filter(status=JobStatus.SUCCEEDED).first()
        if done is None:
            now = timezone.now()
            done = ModelJob.objects.create(
                kind=ModelJobKind.INSTALL,
                params={"source": resolved},
                status=JobStatus.SUCCEEDED,
                result={"variant": variant.name, "installed": False},
                started_at=now,
                finished_at=now,
                created_by=user,
            )
        return done, False
    job = ModelJob.objects.create(kind=ModelJobKind.INSTALL, params={"source": resolved}, created_by=user)
    job_enqueue(job)
    return job, True


def variant_full_model(variant: ModelVariant) -> ModelVariant:
    """The variant itself when it is a full model; for an adapter, its merged copy (made once and
    registered as its own variant `<name>-merged`), which new adapters can be trained on and served from."""
    from ml.llm.merge import merge_adapter

    if not variant.is_adapter:
        variant_ref(variant)
        return variant
    name = f"{variant.name}-merged"[:100]
    existing = ModelVariant.objects.filter(name=name, status=VariantStatus.READY).first()
    if existing and is_complete(store_path(existing.path)):
        return existing
    ref = variant_ref(variant)
    assert ref.adapter_path is not None  # the ref of an adapter variant
    relative = f"merged/{name}"
    merge_adapter(ref.model_path, ref.adapter_path, store_path(relative))
    ModelVariant.objects.filter(name=name).delete()
    return variant_register(
        name=name,
        kind=VariantKind.MERGED,
        path=relative,
        parent=variant,
        source=f"merge of {variant.name}",
        lineage={"merged_from": variant.name},
    )
