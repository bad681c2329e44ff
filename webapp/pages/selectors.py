"""Reads of the model store for pages: a variant with its whole lineage, evaluation and arena standing."""

from dataclasses import dataclass, field

from webapp.modelstore.models import ModelVariant


@dataclass
class VariantDetail:
    variant: ModelVariant
    ancestors: list[ModelVariant]  # parent first, then its parent, ...
    children: list[ModelVariant]
    job: object | None  # the training job that made it
    data: dict  # snapshot summary: rows, by language, by source, pair ids
    parameters: dict
    evaluation: list[dict]  # one row per language ("all" last)
    generation: dict | None  # the evaluation by generation against the parent (webapp/training/evaluation.py)
    arena: list[dict] = field(default_factory=list)  # per language: rating, CI, votes, rank of n


def variant_detail(variant: ModelVariant) -> VariantDetail:
    from webapp.training.models import TrainingJob

    ancestors: list[ModelVariant] = []
    parent = variant.parent
    while parent is not None and len(ancestors) < 50:
        ancestors.append(parent)
        parent = parent.parent
    lineage = variant.lineage or {}
    job_id = lineage.get("job")
    job = TrainingJob.objects.filter(pk=job_id).first() if job_id else None
    evaluation = dict((variant.metrics or {}).get("evaluation") or {})
    generation = evaluation.pop("generation", None)
    rows = [{"language": language, **values} for language, values in sorted(evaluation.items()) if language != "all"]
    if "all" in evaluation:
        rows.append({"language": "all", **evaluation["all"]})
    return VariantDetail(
        variant=variant,
        ancestors=ancestors,
        children=list(variant.children.order_by("created_at")),
        job=job,
        data=lineage.get("data") or {},
        parameters={key: readable(value) for key, value in (lineage.get("parameters") or {}).items()},
        evaluation=rows,
        generation=generation,
        arena=arena_standing(variant),
    )


def readable(value: object) -> str:
    """A lineage value as a person reads it: lists joined by commas, mappings as key=value, never a
    Python repr (["q_proj", "v_proj"] → "q_proj, v_proj")."""
    if isinstance(value, list | tuple):
        return ", ".join(readable(item) for item in value) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{key}={readable(item)}" for key, item in value.items()) or "—"
    if value is None:
        return "—"
    return str(value)


def arena_standing(variant: ModelVariant) -> list[dict]:
    """The variant's arena rating overall ("" first) and in each language it has votes in."""
    from webapp.arena.selectors import leaderboard, rating_votes

    voted = sorted(set(rating_votes().values_list("language_id", flat=True)))
    standing = []
    for code in ["", *voted]:
        board = leaderboard(code or None)
        for rank, row in enumerate(board, start=1):
            if row["variant_id"] == variant.pk:
                standing.append({"language": code, "rank": rank, "of": len(board), **row})
    return standing
