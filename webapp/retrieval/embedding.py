"""The configured embedder (settings.EMBEDDING_MODEL), loaded once per process."""

from django.conf import settings

from ml.embedding.embedders import Embedder, EmbedderError, load_embedder
from webapp.errors import ApplicationError


class EmbedderUnavailable(ApplicationError):
    status_code = 503


def current_embedder() -> Embedder:
    try:
        return load_embedder(settings.EMBEDDING_MODEL)
    except (EmbedderError, ImportError) as exc:
        raise EmbedderUnavailable(f"The embedding model {settings.EMBEDDING_MODEL!r} cannot be loaded: {exc}") from exc
