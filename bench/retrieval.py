"""Retrieval: indexing throughput through our task path vs a bare `encode()`, and ANN query latency
and recall@10 at 10k and 1M vectors for the index type we choose at each size.

    .venv/bin/python bench/retrieval.py [--quick]

1. Indexing: N generated texts (prompts in ten languages) stored through the catalog, then indexed by
   the Celery task `workers.tasks.indexing.sync_index` run in-process (database reads, USE embedding,
   stored vectors with checksums, FAISS file written atomically) vs `embedder.encode()` of the same
   texts. Throughput ratio goal: >= 0.9. Then end-to-end search latency (`search_texts`: query
   embedding, FAISS, database filters) on that index.
2. ANN: clustered synthetic vectors (10,000 Gaussian clusters of different widths, normalised, 512-d
   like USE; not isotropic noise). 10k vectors: IndexFlatIP (exact, what we choose below SEARCH_FLAT_MAX). 1M:
   IndexIVFFlat, nlist 1024, nprobe 256 (vectors.choose_params), compared with exact search for latency
   and recall@10. One query at a time. The built 1M index is cached under var/bench/retrieval/.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("VAR_DIR", str(ROOT / "var" / "bench"))
os.environ.setdefault("MODELS_STORE", str(ROOT / "var" / "bench" / "models_store"))
os.environ["DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / 'bench' / 'retrieval.sqlite3'}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
os.environ["SEARCH_INDEX_ON_SAVE"] = "false"  # the benchmark indexes explicitly

import numpy as np  # noqa: E402

from bench.report import write_table  # noqa: E402

CACHE = ROOT / "var" / "bench" / "retrieval"
DIM = 512
N_CENTERS = 10_000


def setup_django():
    import django
    from django.core.management import call_command

    (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
    django.setup()
    call_command("migrate", verbosity=0)


def texts(n: int) -> list[tuple[str, str]]:
    from tests.retrieval.parallel import distractors

    return distractors(n, seed=11)


def fresh_corpus(corpus: list[tuple[str, str]]) -> None:
    import shutil

    from django.conf import settings

    from webapp.feedback.content import content_hash
    from webapp.feedback.models import Prompt
    from webapp.feedback.services.languages import language_get_or_create
    from webapp.retrieval.models import Embedding, IndexBuild, SearchIndex

    Embedding.objects.all().delete()
    SearchIndex.objects.all().delete()
    IndexBuild.objects.all().delete()
    Prompt.objects.filter(source="bench").delete()
    shutil.rmtree(Path(settings.MODELS_STORE) / "indexes", ignore_errors=True)
    languages = {code: language_get_or_create(code) for code in {code for code, _ in corpus}}
    Prompt.objects.bulk_create(
        Prompt(content=t, text=t, content_hash=content_hash(t), language=languages[code], source="bench")
        for code, t in corpus
    )


def bench_indexing(n: int) -> list[tuple[str, float, float]]:
    from webapp.retrieval.embedding import current_embedder
    from webapp.retrieval.selectors import search_texts
    from workers.tasks.indexing import sync_index

    corpus = texts(n)
    embedder = current_embedder()
    # USE loads parts of its vocabulary table on first use: warm it on these texts before timing.
    embedder.encode([t for _, t in corpus])
    # The machine is shared: four interleaved rounds, alternating which side goes first; medians.
    ours_rates, bare_rates = [], []
    for round_ in range(4):
        if round_ % 2 == 0:
            bare_rates.append(bare_encode_rate(embedder, [t for _, t in corpus]))
        fresh_corpus(corpus)
        start = time.perf_counter()
        result = sync_index.apply().get()
        ours_rates.append(n / (time.perf_counter() - start))
        assert result["embedded"] == n, result
        if round_ % 2 == 1:
            bare_rates.append(bare_encode_rate(embedder, [t for _, t in corpus]))
    ours, bare = float(np.median(ours_rates)), float(np.median(bare_rates))

    queries = [t for _, t in texts(200)][:100]
    latencies = []
    for q in queries:
        start = time.perf_counter()
        search_texts(query=q, k=10)
        latencies.append((time.perf_counter() - start) * 1000)
    encode_ms = []
    for q in queries:
        start = time.perf_counter()
        embedder.encode([q])
        encode_ms.append((time.perf_counter() - start) * 1000)
    return [
        (f"indexing throughput, texts/s ({n:,} texts; task path vs bare encode)", ours, bare),
        (
            f"search p50 ms, whole path vs query encode alone ({n:,} texts)",
            np.percentile(latencies, 50),
            np.percentile(encode_ms, 50),
        ),
        (
            f"search p95 ms, whole path vs query encode alone ({n:,} texts)",
            np.percentile(latencies, 95),
            np.percentile(encode_ms, 95),
        ),
    ]


def bare_encode_rate(embedder, batch: list[str]) -> float:
    start = time.perf_counter()
    embedder.encode(batch)
    return len(batch) / (time.perf_counter() - start)


def clustered(n: int, seed: int, centers: np.ndarray) -> np.ndarray:
    """Points around random cluster centres, normalised: neighbourhoods like real embeddings have."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        which = rng.integers(0, len(centers), m)
        block = centers[which] + rng.normal(0, 1 / np.sqrt(DIM), (m, DIM)).astype(np.float32)
        out[start : start + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def timed_queries(fn, queries: np.ndarray) -> tuple[np.ndarray, list[float]]:
    ids, ms = [], []
    for q in queries:
        start = time.perf_counter()
        ids.append(fn(q[None, :]))
        ms.append((time.perf_counter() - start) * 1000)
    return np.concatenate(ids), ms


def bench_ann(n: int, n_queries: int) -> list[tuple[str, float, float]]:
    import faiss

    from ml.embedding import vectors

    rng = np.random.default_rng(0)
    centers = rng.normal(size=(N_CENTERS, DIM)).astype(np.float32)
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    # Clusters of different widths: some tight, some overlapping their neighbours.
    centers *= rng.uniform(0.8, 1.6, (N_CENTERS, 1)).astype(np.float32)
    data = clustered(n, 1, centers)
    queries = clustered(n_queries, 2, centers)
    params = vectors.choose_params(n)
    cache = CACHE / f"{params.kind}-{n}-{params.nlist}-c{N_CENTERS}.faiss"
    start = time.perf_counter()
    if cache.is_file():
        index, how = faiss.read_index(str(cache)), "loaded from cache"
    else:
        index, how = vectors.build_index(data, np.arange(n), params), "built"
        CACHE.mkdir(parents=True, exist_ok=True)
        faiss.write_index(index, str(cache))
    print(f"{n:,} vectors: {params.describe()} {how} in {time.perf_counter() - start:.1f}s", flush=True)
    found, ours_ms = timed_queries(lambda q: vectors.search(index, q, 10, nprobe=params.nprobe or None)[1], queries)
    exact, exact_ms = timed_queries(lambda q: vectors.exact_search(data, q, 10)[1], queries[: max(20, n_queries // 5)])
    _, truth = vectors.exact_search(data, queries, 10)
    recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)])
    label = f"{n:,} vectors, {params.describe()}"
    return [
        (f"{label}: query p50 ms (vs exact)", np.percentile(ours_ms, 50), np.percentile(exact_ms, 50)),
        (f"{label}: query p95 ms (vs exact)", np.percentile(ours_ms, 95), np.percentile(exact_ms, 95)),
        (f"{label}: recall@10 (vs exact)", recall, 1.0),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 texts and 100k vectors instead of 5,000 and 1M")
    args = parser.parse_args()
    setup_django()
    rows = bench_indexing(2_000 if args.quick else 5_000)
    rows += bench_ann(10_000, 200)
    rows += bench_ann(100_000 if args.quick else 1_000_000, 200)
    write_table(
        "Retrieval (USE-multilingual on CPU; FAISS; ratio = ours / baseline)",
        rows,
        ROOT / "var" / "bench" / "retrieval.md",
        digits=3,
    )


if __name__ == "__main__":
    main()
