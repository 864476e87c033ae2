from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cpor.errors import DomainError
from cpor.ops import backup


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump custom format, or a SQLite copy) and every PoE file it "
        "refers to (local folder or S3) into DIR, with a SHA-256 manifest."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("dir", type=Path, help="a new or empty directory")

    def handle(self, *args, dir: Path, **options) -> None:
        try:
            manifest = backup.backup(dir)
        except DomainError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"backed up the {manifest['database']['vendor']} database and "
            f"{len(manifest['files'])} PoE files into {dir}"
        )
