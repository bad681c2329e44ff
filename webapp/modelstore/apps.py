from django.apps import AppConfig


class ModelstoreConfig(AppConfig):
    name = "webapp.modelstore"
    label = "modelstore"
