"""Trust weights per annotator and language (computed in webapp/feedback/quality.py), for pair
derivation and training jobs."""

from webapp.feedback.quality import trust_weights

__all__ = ["trust_weights"]
