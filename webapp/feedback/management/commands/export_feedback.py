from django.core.management.base import BaseCommand, CommandError

from webapp.errors import ApplicationError
from webapp.feedback.formats.exporting import SOURCES, ExportSpec, feedback_export
from webapp.feedback.formats.pairs import EXPANSIONS
from webapp.feedback.formats.registry import export_formats


class Command(BaseCommand):
    help = "Export feedback as JSON Lines: pairs (interchange), dpo and sft (TRL), or rankings."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=export_formats.names(), default="pairs")
        parser.add_argument("--out", required=True, help="Output file (written under a temp name, then renamed)")
        parser.add_argument("--language", action="append", dest="languages", default=[])
        parser.add_argument(
            "--source", action="append", dest="sources", choices=SOURCES, default=[], help="none: all but judge"
        )
        parser.add_argument(
            "--origin", action="append", dest="origins", default=[], help="rankings, pairs, oasst, local..."
        )
        parser.add_argument("--campaign", action="append", dest="campaigns", default=[])
        parser.add_argument("--pairs", choices=EXPANSIONS, default="best_vs_rest")
        parser.add_argument("--min-agreement", type=float, default=0.5)
        parser.add_argument("--min-annotators", type=int, default=1)
        parser.add_argument("--include-flagged", action="store_true")

    def handle(self, *args, **o):
        try:
            spec = ExportSpec.from_params(
                {
                    "format": o["format"],
                    "languages": o["languages"],
                    "sources": o["sources"],
                    "origins": o["origins"],
                    "campaigns": o["campaigns"],
                    "pairs": o["pairs"],
                    "min_agreement": o["min_agreement"],
                    "min_annotators": o["min_annotators"],
                    "include_flagged": o["include_flagged"],
                }
            )
            count = feedback_export(spec=spec, out=o["out"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"{count} {o['format']} rows written to {o['out']}")
