"""The similarity check of a `translate` contribution (webapp/feedback/services/contributing.py sends it, after
commit, to queue `index`): the source prompt and the translation under the configured multilingual encoder,
flagged for the reviewer queue below the target language's calibrated threshold
(`ml.embedding.translation_check`), or when it is the source text unchanged. A pair of languages
outside the encoder's list is skipped (similarity null, not flagged, noted): its verifiers decide alone."""

from ml.embedding import translation_check
from webapp.feedback.models import CampaignKind, Contribution
from webapp.feedback.services.contributing import translation_checked
from webapp.retrieval.embedding import current_embedder


def translation_check_run(*, contribution_id: int) -> dict:
    contribution = (
        Contribution.objects.select_related("task__prompt")
        .filter(pk=contribution_id, kind=CampaignKind.TRANSLATE)
        .first()
    )
    if contribution is None:
        return {"checked": False, "reason": "no such translation"}
    embedder = current_embedder()
    source = contribution.task.prompt
    if " ".join(contribution.content.split()).casefold() == " ".join(source.text.split()).casefold():
        # A copy of the source scores about 1.0 under any encoder: flagged without asking it.
        note = "flagged: the translation is the source text unchanged"
        translation_checked(contribution_id=contribution.pk, similarity=None, flagged=True, note=note)
        return {"checked": True, "similarity": None, "flagged": True}
    found = translation_check.check(
        embedder, source.text, source.language_id, contribution.content, contribution.language_id
    )
    if found.skipped_reason:
        note = f"skipped: {found.skipped_reason}"
        translation_checked(contribution_id=contribution.pk, similarity=None, flagged=False, note=note)
        return {"checked": False, "reason": note}
    note = f"{embedder.key}: {found.similarity:.3f} {'<' if found.flagged else '>='} {found.threshold}"
    translation_checked(contribution_id=contribution.pk, similarity=found.similarity, flagged=found.flagged, note=note)
    return {"checked": True, "similarity": found.similarity, "flagged": found.flagged}
