from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "webapp.feedback"
    label = "feedback"

    def ready(self) -> None:
        # The published datasets' import formats register themselves (webapp/feedback/formats/registry.py).
        from webapp.feedback.formats import aya, hf_import, hh_rlhf, oasst, ultrafeedback  # noqa: F401, PLC0415
        from webapp.feedback.quality import marks  # noqa: PLC0415

        marks.connect()
