from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cpor.errors import DomainError
from cpor.ops import backup


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup` into the configured database, which must "
        "be new and empty, and the PoE store. Every file's SHA-256 is checked first."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("dir", type=Path, help="a directory written by `manage.py backup`")

    def handle(self, *args, dir: Path, **options) -> None:
        try:
            manifest = backup.restore(dir)
        except DomainError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"restored the {manifest['database']['vendor']} database and "
            f"{len(manifest['files'])} PoE files from {dir}"
        )
