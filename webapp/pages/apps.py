from django.apps import AppConfig


class PagesConfig(AppConfig):
    """The top layer: pages that combine several apps (home and loop status, a variant with its
    training job and arena standing) and the loop story (`play_loop`)."""

    name = "webapp.pages"
    label = "pages"
