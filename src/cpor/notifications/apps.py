from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "cpor.notifications"

    def ready(self) -> None:
        from cpor.claims import events
        from cpor.notifications import consumers

        # The core announces committed history; the consumers derive e-mails and webhooks.
        events.subscribe(consumers.wake)
