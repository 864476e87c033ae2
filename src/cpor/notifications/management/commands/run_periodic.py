from django.core.management.base import BaseCommand, CommandError

from cpor.notifications import periodic


class Command(BaseCommand):
    help = (
        "Run each periodic job once (activate associations, end expired subscriptions, warn "
        "about and expire stale drafts, reject unanswered requests, retry the outbox). "
        "Idempotent: schedule it from cron every few minutes."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--job", action="append", choices=sorted(periodic.JOBS), help="run only this job"
        )

    def handle(self, *args, job=None, **options) -> None:
        names = job or list(periodic.JOBS)
        failed = []
        for name in names:
            try:
                count = periodic.run_job(name)
            except Exception as error:  # one failing job must not stop the others
                failed.append(name)
                self.stderr.write(f"{name}: failed: {error}")
            else:
                self.stdout.write(f"{name}: {count}")
        if failed:
            raise CommandError(f"failed: {', '.join(failed)}")
