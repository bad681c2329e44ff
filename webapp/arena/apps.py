from django.apps import AppConfig


class ArenaConfig(AppConfig):
    name = "webapp.arena"
    label = "arena"

    def ready(self) -> None:
        # The battle-log import and export format (`arena`) registers itself (webapp/feedback/formats/registry.py),
        # and so do the demo's battles (`demo_seeders`, webapp/feedback/extensions.py).
        from webapp.arena import demo, logs, tallies  # noqa: F401, PLC0415

        # Battles and votes saved, and feedback's records deleted or restored, mark the arena's tallies.
        tallies.connect()
