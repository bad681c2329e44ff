from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "webapp.feedback"
    label = "feedback"

    def ready(self) -> None:
        # The published datasets' import formats register themselves (webapp/feedback/formats/registry.py), and
        # so do the kto export and its unpaired sources (arena, ranking, flags).
        from webapp.feedback.formats import aya, hf_import, hh_rlhf, kto, oasst, ultrafeedback  # noqa: F401, PLC0415

        # Deleting an annotation or a skip marks its task for the review summary's fold (quality/marks.py).
        from webapp.feedback.quality import marks  # noqa: PLC0415

        # The contribution task kinds register themselves in `task_kinds` (webapp/feedback/extensions.py).
        from webapp.feedback.services import contributing  # noqa: F401, PLC0415

        marks.connect()
        # Saving a contribution or a vote marks its contributor figures for the fold (webapp/feedback/tallies.py).
        from webapp.feedback import tallies  # noqa: PLC0415

        tallies.connect()
