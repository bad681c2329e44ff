from django.apps import AppConfig


class ProofConfig(AppConfig):
    name = "webapp.proof"
    label = "proof"
    verbose_name = "Proof of the loop"
