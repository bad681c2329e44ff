from django.apps import AppConfig


class RetrievalConfig(AppConfig):
    name = "webapp.retrieval"
    label = "retrieval"
    verbose_name = "Cross-lingual retrieval"

    def ready(self):
        from webapp.retrieval import signals

        signals.connect()
