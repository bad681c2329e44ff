from django.apps import AppConfig


class JudgingConfig(AppConfig):
    name = "webapp.judging"
    label = "judging"

    def ready(self) -> None:
        from webapp.feedback.extensions import judges
        from webapp.judging.fidelity import fidelity_judge
        from webapp.judging.llm import llm_judge

        judges.register(llm_judge())
        judges.register(fidelity_judge())
