from django.apps import AppConfig


class MdfConfig(AppConfig):
    name = "mdf"
