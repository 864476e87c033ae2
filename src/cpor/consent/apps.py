from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "cpor.consent"
