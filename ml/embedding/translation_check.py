"""Whether a translation says what its source says: the cosine similarity of the two texts under a multilingual
encoder, flagged below `THRESHOLD` (the contribute feature's `translate` kind, webapp/retrieval/translation.py).

A minimal version with a provisional threshold: the calibrated one (on a parallel set, figures committed) replaces
it. Languages outside the encoder's documented list, or an encoder whose list is unknown, are not checkable: a
similarity there means nothing, so the item goes to its verifiers unflagged."""

import numpy as np

from ml.embedding.embedders import Embedder, supports

THRESHOLD = 0.5


def checkable(embedder: Embedder, source_language: str, target_language: str) -> bool:
    return bool(supports(embedder, source_language)) and bool(supports(embedder, target_language))


def similarity(embedder: Embedder, source_text: str, target_text: str) -> float:
    """Cosine similarity: the encoder's rows are L2-normalised, so their inner product."""
    rows = embedder.encode([source_text, target_text])
    return float(np.dot(rows[0], rows[1]))
