"""Django-free ML code: model loading, inference and merge (`ml.llm`), embedding and vector indexes
(`ml.embedding`), and the DPO/SFT runners with their evaluation (`ml.training`).

Nothing here imports Django, `webapp` or `workers` (an import-linter contract in CI says so), and only
this package imports torch, transformers, trl, peft, faiss or sentence_transformers.
"""
