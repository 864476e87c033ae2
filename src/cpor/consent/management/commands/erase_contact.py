"""``manage.py erase_contact EMAIL``: pseudonymise a person's contact data everywhere it is
stored, keeping the history verifiable (``cpor.consent.erasure``)."""

import getpass

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cpor.consent.erasure import contact_erase
from cpor.errors import DomainError


class Command(BaseCommand):
    help = (
        "Erase a person's contact data: the address and their name in claims, history "
        "events, e-mails (outbox and mail log), decline links, admin contacts, PoE "
        "signatories and their own user account (also deactivated) become a pseudonym. "
        "The history still verifies; the erasure is recorded with who asked, when, and a "
        "keyed reference to the address, and in the audit trail. An address found nowhere "
        "changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="the address to erase")
        parser.add_argument(
            "--by",
            dest="requested_by",
            default="",
            help="who asked for the erasure (default: the operating-system user)",
        )

    def handle(self, *args, email: str, requested_by: str, **options) -> None:
        try:
            erasure = contact_erase(
                email=email, requested_by=requested_by or f"{getpass.getuser()} (shell)"
            )
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message}") from None
        changed = ", ".join(f"{name} {count}" for name, count in sorted(erasure.counts.items()))
        self.stdout.write(
            f"erased: reference {erasure.reference}, now {erasure.pseudonym} ({changed})"
        )
