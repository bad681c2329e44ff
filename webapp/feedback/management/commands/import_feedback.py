from django.core.management.base import BaseCommand, CommandError

from webapp.errors import ApplicationError
from webapp.feedback.services.importing import feedback_import


class Command(BaseCommand):
    help = "Import pair and ranking JSON Lines (formats: docs/formats.md). Atomic: any bad line rejects the file."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--skip-invalid", action="store_true", help="Import the good lines and report the rest")

    def handle(self, *args, path, skip_invalid, **options):
        try:
            report = feedback_import(path=path, skip_invalid=skip_invalid)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        for line_no, message in report.errors:
            self.stderr.write(f"line {line_no}: {message} (skipped)")
        self.stdout.write(
            f"{report.lines} lines: {report.pairs_created} pairs and {report.tasks_created} tasks "
            f"({report.annotations_created} rankings) imported; {report.pairs_unchanged + report.tasks_unchanged} "
            f"already present; {report.invalid} invalid"
        )
