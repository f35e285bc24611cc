from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "prm.security"
    label = "prm_security"
    verbose_name = "Security"

    def ready(self):
        from . import bounds, tokens

        bounds.connect()
        tokens.connect()
