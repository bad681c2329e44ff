from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from webapp.errors import ApplicationError
from webapp.feedback.formats.registry import import_formats
from webapp.feedback.services.importing import AUTO, feedback_import


class Command(BaseCommand):
    help = (
        "Import a file of pairs and rankings, or of a published dataset (--format), as .jsonl, .jsonl.gz or "
        ".parquet; or with --format hf a folder export_feedback --format hf wrote (or its .zip) (formats: "
        "docs/formats.md). Atomic: any bad record rejects the file."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The file; for --format hf, the dataset folder or a .zip of it")
        parser.add_argument("--skip-invalid", action="store_true", help="Import the good lines and report the rest")
        parser.add_argument(
            "--format",
            default=AUTO,
            choices=[AUTO, *import_formats.names()],
            help="auto (default): pairs and rankings, told apart line by line; or a published dataset's format",
        )
        parser.add_argument(
            "--language", default="en", help="BCP-47 tag for formats whose records name no language (default: en)"
        )

    def handle(self, *args, path, skip_invalid, format, language, **options):  # noqa: A002
        try:
            report = feedback_import(
                path=path, skip_invalid=skip_invalid, format=format, language=language, origin=Path(path).name
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        for line_no, message in report.errors:
            self.stderr.write(f"line {line_no}: {message} (skipped)")
        self.stdout.write(
            f"{report.lines} lines: {report.pairs_created} pairs and {report.tasks_created} tasks "
            f"({report.annotations_created} rankings) imported"
            + (f", {report.demonstrations_created} demonstrations" if report.demonstrations_created else "")
            + f"; {report.pairs_unchanged + report.tasks_unchanged + report.demonstrations_unchanged} "
            f"already present; {report.invalid} invalid; {sum(report.skipped.values())} skipped"
        )
        for what, created in report.created.items():
            self.stdout.write(f"{what}: {created} imported; {report.unchanged.get(what, 0)} already present")
        for reason, count in sorted(report.skipped.items(), key=lambda item: -item[1]):
            self.stdout.write(f"skipped: {reason} ({count})")
