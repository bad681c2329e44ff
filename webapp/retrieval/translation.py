"""The similarity check of a `translate` contribution (webapp/feedback/services/contributing.py sends it, after
commit, to queue `index`): the source prompt and the translation under the configured multilingual encoder,
flagged for the reviewer queue below the threshold of `ml.embedding.translation_check`. A pair of languages
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
    if not translation_check.checkable(embedder, source.language_id, contribution.language_id):
        note = f"skipped: {source.language_id} -> {contribution.language_id} is outside {embedder.name}'s languages"
        translation_checked(contribution_id=contribution.pk, similarity=None, flagged=False, note=note)
        return {"checked": False, "reason": note}
    score = translation_check.similarity(embedder, source.text, contribution.content)
    flagged = score < translation_check.THRESHOLD
    note = f"{embedder.key}: {score:.3f} {'<' if flagged else '>='} {translation_check.THRESHOLD}"
    translation_checked(contribution_id=contribution.pk, similarity=score, flagged=flagged, note=note)
    return {"checked": True, "similarity": score, "flagged": flagged}
