"""Embeddings and vector indexes, Django-free: the embedder interface with its two backends
(`embedders.py`) and FAISS index building, search and atomic files (`vectors.py`)."""
