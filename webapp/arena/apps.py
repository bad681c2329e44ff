from django.apps import AppConfig


class ArenaConfig(AppConfig):
    name = "webapp.arena"
    label = "arena"
