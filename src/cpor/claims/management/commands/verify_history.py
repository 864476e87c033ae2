"""``manage.py verify_history``: recompute the history's hash chains and check the signed
checkpoints; exits non-zero naming the first broken link (``cpor.claims.integrity``)."""

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cpor.claims.integrity import CHUNK_SIZE, history_verify


class Command(BaseCommand):
    help = "Verify the tamper-evident history: every event, seal, chain and checkpoint."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=CHUNK_SIZE,
            help=f"rows fetched from the database at a time (default {CHUNK_SIZE})",
        )

    def handle(self, *args, chunk_size: int, **options) -> None:
        if chunk_size < 1:
            raise CommandError("--chunk-size must be a positive whole number")
        started = time.monotonic()
        result = history_verify(chunk_size=chunk_size)
        elapsed = time.monotonic() - started
        if result.broken is not None:
            raise CommandError(f"history broken: {result.broken}")
        erased = f", {result.redacted} with personal data erased" if result.redacted else ""
        self.stdout.write(
            f"history intact: {result.seals} seals, {result.events} events rehashed, "
            f"{result.deleted_drafts} deleted with their drafts, "
            f"{result.checkpoints} checkpoints, {result.pending} pending{erased} "
            f"({elapsed:.1f} s, {result.seals / max(elapsed, 1e-9):,.0f} seals/s)"
        )
