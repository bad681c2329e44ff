"""Where index folders live under MODELS_STORE, and the process-wide cache of loaded indexes: a
search reloads an index only when its folder was swapped or its file replaced."""

import hashlib
import re
import shutil
import threading
from pathlib import Path

from django.conf import settings

from ml.embedding import vectors
from webapp.retrieval.models import SearchIndex

_cache: dict[str, tuple[tuple[int, int], vectors.Index]] = {}
_cache_lock = threading.Lock()


def model_slug(model_key: str) -> str:
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", model_key)[-60:].strip("-.")
    return f"{readable}-{hashlib.sha256(model_key.encode()).hexdigest()[:8]}"


def model_root(model_key: str) -> Path:
    return Path(settings.MODELS_STORE) / "indexes" / model_slug(model_key)


def lock_path(model_key: str) -> Path:
    return model_root(model_key) / ".lock"


def absolute(index: SearchIndex) -> Path:
    return Path(settings.MODELS_STORE) / index.folder


def relative(folder: Path) -> str:
    return str(folder.relative_to(Path(settings.MODELS_STORE)))


def load(index: SearchIndex) -> vectors.Index | None:
    """The index in `index.folder`, from the cache unless the file changed; None when missing."""
    folder = absolute(index)
    signature = vectors.file_signature(folder)
    if signature is None:
        return None
    with _cache_lock:
        cached = _cache.get(str(folder))
        if cached and cached[0] == signature:
            return cached[1]
    loaded = vectors.read_index(folder)
    with _cache_lock:
        _cache[str(folder)] = (signature, loaded)
    return loaded


def store(index: SearchIndex, loaded: vectors.Index, manifest: vectors.Manifest) -> None:
    folder = absolute(index)
    vectors.write_index(folder, loaded, manifest)
    with _cache_lock:
        _cache[str(folder)] = (vectors.file_signature(folder), loaded)


def remove_folder(folder: Path) -> None:
    with _cache_lock:
        _cache.pop(str(folder), None)
    shutil.rmtree(folder, ignore_errors=True)
