"""FAISS indexes and stored vectors, Django-free. The one module that uses FAISS.

Index types (inner product on L2-normalised vectors, i.e. cosine similarity):
* `flat`: exact `IndexFlatIP` (wrapped in `IndexIDMap2` for our ids) up to `flat_max` vectors
  (default 50,000: a query scans 50k x 512 floats in a few milliseconds).
* `ivf`: `IndexIVFFlat` above it, nlist = the power of two nearest to sqrt(n) (1,024 at 1M vectors),
  trained on at most 64 x nlist sampled vectors; nprobe = max(16, nlist / 4) (256 at 1M). On overlapping
  clusters (bench/retrieval.py) a quarter of the lists is what recall@10 >= 0.95 takes (nlist/16 gave
  0.77 at 200k vectors); a query still scans 4x fewer vectors than exact search, and the index builds
  in seconds where HNSW's graph takes far longer on 2 cores.

Files: one index file written to a temporary name and renamed over the old one, then a small
manifest (model key, count, generation) written the same way. A manifest whose count differs from
the index file's count is stale and triggers a reconcile from the vectors kept in the database.
"""

import fcntl
import hashlib
import json
import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

# faiss.Index, spelled so that callers need not import faiss (web processes never load it).
Index = Any


def _faiss() -> ModuleType:
    """FAISS is imported on first use, so that importing this module (as web processes do, for the
    vector helpers) never loads it."""
    import faiss

    return faiss


INDEX_FILE = "index.faiss"
MANIFEST_FILE = "manifest.json"
FLAT_MAX = 50_000


@dataclass(frozen=True)
class IndexParams:
    kind: str  # "flat" or "ivf"
    nlist: int = 0
    nprobe: int = 0

    def describe(self) -> str:
        return "IndexFlatIP (exact)" if self.kind == "flat" else f"IndexIVFFlat nlist={self.nlist} nprobe={self.nprobe}"


def choose_params(n: int, flat_max: int = FLAT_MAX) -> IndexParams:
    if n <= flat_max:
        return IndexParams("flat")
    nlist = 2 ** round(math.log2(math.sqrt(n)))
    return IndexParams("ivf", nlist=nlist, nprobe=max(16, nlist // 4))


def _as_ids(ids: npt.ArrayLike) -> np.ndarray:
    return np.ascontiguousarray(ids, dtype=np.int64)


def _as_vectors(vectors: npt.ArrayLike) -> np.ndarray:
    return np.ascontiguousarray(vectors, dtype=np.float32)


def build_index(vectors: np.ndarray, ids: np.ndarray, params: IndexParams, *, seed: int = 1) -> Index:
    faiss = _faiss()
    vectors, ids = _as_vectors(vectors), _as_ids(ids)
    dim = vectors.shape[1]
    if params.kind == "flat":
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    else:
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, params.nlist, faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(seed).choice(len(vectors), min(len(vectors), 64 * params.nlist), replace=False)
        index.train(vectors[np.sort(sample)])
        index.nprobe = params.nprobe
    if len(ids):
        index.add_with_ids(vectors, ids)
    return index


def empty_index(dim: int) -> Index:
    faiss = _faiss()
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def add_vectors(index: Index, vectors: np.ndarray, ids: np.ndarray) -> None:
    if len(ids):
        index.add_with_ids(_as_vectors(vectors), _as_ids(ids))


def remove_ids(index: Index, ids: npt.ArrayLike) -> int:
    faiss = _faiss()
    ids = _as_ids(ids)
    if not len(ids):
        return 0
    return int(index.remove_ids(faiss.IDSelectorBatch(len(ids), faiss.swig_ptr(ids))))


def index_ids(index: Index) -> np.ndarray:
    """Every id the index holds."""
    faiss = _faiss()
    if isinstance(index, faiss.IndexIDMap2 | faiss.IndexIDMap):
        ids: np.ndarray = faiss.vector_to_array(index.id_map).astype(np.int64)
        return ids
    ivf = faiss.extract_index_ivf(index)
    lists = ivf.invlists
    parts = [
        faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy() for i in range(ivf.nlist) if lists.list_size(i)
    ]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)


def search(
    index: Index, queries: np.ndarray, k: int, *, nprobe: int | None = None, allowed: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(scores, ids), each (n_queries, k); missing neighbours have id -1. `allowed` (vector ids)
    restricts the search inside FAISS (an id selector), so a caller that may see only part of the
    index gets its k nearest among those, with no over-fetching."""
    faiss = _faiss()
    k = max(1, min(k, max(index.ntotal, 1)))
    flat = isinstance(index, faiss.IndexIDMap2 | faiss.IndexIDMap)
    if nprobe is not None and not flat:
        faiss.extract_index_ivf(index).nprobe = nprobe
    if allowed is None:
        found: tuple[np.ndarray, np.ndarray] = index.search(_as_vectors(queries), k)
        return found
    ids = _as_ids(allowed)
    selector = faiss.IDSelectorBatch(len(ids), faiss.swig_ptr(ids))
    if flat:
        params = faiss.SearchParameters(sel=selector)
    else:
        params = faiss.SearchParametersIVF(sel=selector, nprobe=faiss.extract_index_ivf(index).nprobe)
    selected: tuple[np.ndarray, np.ndarray] = index.search(_as_vectors(queries), k, params=params)
    return selected


def exact_search(vectors: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force inner product: the ground truth that recall is measured against."""
    faiss = _faiss()
    found: tuple[np.ndarray, np.ndarray] = faiss.knn(
        _as_vectors(queries), _as_vectors(vectors), k, metric=faiss.METRIC_INNER_PRODUCT
    )
    return found


# --- stored vectors ---------------------------------------------------------------------------
def vector_to_bytes(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype="<f4").tobytes()


def vector_from_bytes(data: bytes, dim: int) -> np.ndarray:
    vector = np.frombuffer(data, dtype="<f4")
    if vector.shape != (dim,):
        raise ValueError(f"stored vector has {vector.size} values, expected {dim}")
    return vector


def checksum(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


# --- files ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Manifest:
    model_key: str
    dim: int
    count: int
    generation: int
    params: dict[str, Any]

    @classmethod
    def read(cls, folder: Path) -> "Manifest | None":
        path = folder / MANIFEST_FILE
        return cls(**json.loads(path.read_text())) if path.is_file() else None


def _replace(path: Path, write: Callable[[Path], object]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write(tmp)
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def write_index(folder: Path, index: Index, manifest: Manifest) -> None:
    """Index first, then the manifest: a crash between the two leaves a manifest whose count does
    not match the index, which `is_consistent` reports."""
    faiss = _faiss()
    folder.mkdir(parents=True, exist_ok=True)
    _replace(folder / INDEX_FILE, lambda tmp: faiss.write_index(index, str(tmp)))
    _replace(folder / MANIFEST_FILE, lambda tmp: tmp.write_text(json.dumps(asdict(manifest))))


def read_index(folder: Path) -> Index:
    faiss = _faiss()
    return faiss.read_index(str(folder / INDEX_FILE))


def is_consistent(folder: Path, index: Index) -> bool:
    manifest = Manifest.read(folder)
    return manifest is not None and manifest.count == index.ntotal


def file_signature(folder: Path) -> tuple[int, int] | None:
    """Changes whenever the index file is replaced (new inode) or rewritten."""
    try:
        stat = (folder / INDEX_FILE).stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns


@contextmanager
def folder_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between the processes of one host that change an index (flock; on shared
    storage across hosts the `index` queue should run on one host)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
