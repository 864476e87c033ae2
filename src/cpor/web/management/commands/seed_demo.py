"""``manage.py seed_demo``: demo partners, customers, claims and associations."""

import time

from django.core.management.base import BaseCommand, CommandParser

from cpor.earnings.demo import seed_rate_cards
from cpor.partners.models import PartnerOrganisation
from cpor.usage.demo import generate_usage
from cpor.web import demo


class Command(BaseCommand):
    help = (
        f"Create demo partners, users (password {demo.DEMO_PASSWORD}), customers, claims in "
        "every status and associations in every state. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when any partner organisation exists.",
        )
        parser.add_argument(
            "--claims",
            type=int,
            default=0,
            metavar="N",
            help="Also generate N claims in bulk (for load tests), in a realistic status mix.",
        )
        parser.add_argument(
            "--random-seed", type=int, default=None, help="Make --claims reproducible."
        )
        parser.add_argument(
            "--usage-rows",
            type=int,
            default=0,
            metavar="N",
            help="Also import N rows of monthly workload usage in bulk (for benchmarks).",
        )

    def handle(
        self,
        *args,
        if_empty: bool,
        claims: int,
        random_seed: int | None,
        usage_rows: int = 0,
        **options,
    ):
        if if_empty and PartnerOrganisation.objects.exists():
            self.stdout.write("The database already has partner organisations: nothing seeded.")
            return
        started = time.monotonic()
        if demo.seed_demo():
            self.stdout.write("Demo partners, customers, claims and associations created.")
        else:
            self.stdout.write("The demo data already exists: nothing new created.")
        if claims > 0:
            written = demo.generate_claims(claims, seed=random_seed)
            self.stdout.write(
                f"Generated {claims:,} claims ({sum(written.values()):,} rows) in bulk."
            )
        usage = generate_usage()
        self.stdout.write(
            f"Demo usage: {usage['workload']:,} workload and {usage['subscription']:,} "
            "subscription months."
        )
        cards = seed_rate_cards()
        self.stdout.write(f"Demo rate cards: {cards} created (earnings estimates).")
        if usage_rows > 0:
            usage = generate_usage(rows=usage_rows)
            self.stdout.write(f"Generated {usage['workload']:,} usage rows in bulk.")
        for line in demo.describe(demo.summary()):
            self.stdout.write(line)
        self.stdout.write(
            f"Sign in as admin@lisbon-cloud.example, reviewer@cpor.example or "
            f"programadmin@cpor.example with the password {demo.DEMO_PASSWORD} "
            f"({time.monotonic() - started:.1f} s)."
        )
