from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webapp.webhooks"
    label = "webhooks"

    def ready(self) -> None:
        from webapp.webhooks import receivers

        receivers.connect()
