from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "cpor.consent"

    def ready(self) -> None:
        # The history verifier follows the signed redactions that erasures record here
        # (claims/integrity/redaction.py; the claims app imports nothing from consent).
        from cpor.claims.integrity.redaction import register_redaction_source
        from cpor.consent.erasure import event_redactions

        register_redaction_source(event_redactions)
