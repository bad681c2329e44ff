from django.apps import AppConfig


class ArenaConfig(AppConfig):
    name = "webapp.arena"
    label = "arena"

    def ready(self) -> None:
        # The battle-log import and export format (`arena`) registers itself (webapp/feedback/formats/registry.py).
        from webapp.arena import logs  # noqa: F401, PLC0415
