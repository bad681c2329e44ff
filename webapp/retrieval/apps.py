from django.apps import AppConfig


class RetrievalConfig(AppConfig):
    name = "webapp.retrieval"
    label = "retrieval"
    verbose_name = "Cross-lingual retrieval"

    def ready(self) -> None:
        from webapp.feedback.extensions import import_reports
        from webapp.retrieval import services, signals

        signals.connect()
        # The store reports near-duplicates after an import through this seam, never by importing us.
        import_reports.register("near_duplicates", lambda prompt_ids: services.import_duplicates(prompt_ids=prompt_ids))
