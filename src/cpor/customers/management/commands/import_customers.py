"""``manage.py import_customers FILE…``: tenants, domains, admin contacts, subscriptions.

Validates every row of every file and prints each problem as file, row, column and
rule; writes everything in one transaction only when there is none. Prints progress
for long files. The format is described in ``cpor.customers.services``."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cpor.customers import services


class Command(BaseCommand):
    help = (
        "Import customers from CSV files (UTF-8, header row; the kind is read from the "
        "header): "
        + "; ".join(
            f"{kind}: {','.join(required + optional)}"
            for kind, (required, optional, _text) in services.IMPORT_FORMATS.items()
        )
        + ". Every row is checked first; nothing is written if any row is wrong."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE", help="CSV files (UTF-8).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every row and write nothing."
        )

    def handle(self, *args, files: list[str], dry_run: bool, **options) -> None:
        inputs = []
        for name in files:
            path = Path(name)
            if not path.is_file():
                raise CommandError(f"No such file: {name}")
            inputs.append(services.ImportFile(name=path.name, content=path.read_bytes()))

        def progress(stage: str, done: int, total: int) -> None:
            if total:
                self.stderr.write(f"\r{stage}: {done:,}/{total:,} rows", ending="")
                if done == total:
                    self.stderr.write("")

        report = services.customers_import(
            actor=None, files=inputs, progress=progress, dry_run=dry_run
        )
        if not report.ok:
            for error in report.errors:
                self.stdout.write(str(error))
            raise CommandError(
                f"{len(report.errors)} problem(s) in {report.total_rows} rows: nothing written."
            )
        if dry_run:
            self.stdout.write(f"{report.total_rows} rows checked: no problem, nothing written.")
            return
        for kind in services.WRITE_ORDER:
            if kind in report.created:
                self.stdout.write(
                    f"{kind}: {report.created[kind]} created, {report.updated[kind]} updated"
                )
