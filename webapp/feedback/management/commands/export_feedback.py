from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from webapp.errors import ApplicationError
from webapp.feedback.formats.exporting import SOURCES, ExportSpec, feedback_export
from webapp.feedback.formats.pairs import EXPANSIONS
from webapp.feedback.formats.registry import export_formats


class Command(BaseCommand):
    help = (
        "Export feedback as JSON Lines: pairs (interchange), dpo, sft and kto (TRL), rankings, or arena (battle logs "
        "in the Chatbot Arena format); or, with --format hf, "
        "as a Hugging Face dataset folder holding them all (docs/formats.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=export_formats.names(), default="pairs")
        parser.add_argument(
            "--out",
            required=True,
            help="Output file, or for hf a folder that does not exist or is empty (written under a temp name, then "
            "renamed)",
        )
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
        parser.add_argument(
            "--include-pending",
            action="store_true",
            help="also contributions still being verified: pending written and edited answers, and edits' pairs",
        )
        parser.add_argument(
            "--kto-sources",
            default="",
            help="kto: the unpaired sources, comma-separated (arena,ranking,verify,flags); none: all of them",
        )
        parser.add_argument(
            "--test-fraction", type=float, default=0.1, help="hf: share of translation groups in the test split"
        )
        parser.add_argument("--license", default="", help="hf: the licence id the dataset card declares (cc-by-4.0)")
        parser.add_argument(
            "--push-to-hub", metavar="REPO", default="", help="hf: then upload the folder to this dataset repository"
        )
        parser.add_argument("--private", action="store_true", help="hf: a repository --push-to-hub makes is private")

    def handle(self, *args, **o):
        if o["push_to_hub"] and o["format"] != "hf":
            raise CommandError(_("--push-to-hub needs --format hf"))
        if o["kto_sources"] and o["format"] != "kto":
            raise CommandError(_("--kto-sources needs --format kto"))
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
                    "include_pending": o["include_pending"],
                    "test_fraction": o["test_fraction"],
                    "license": o["license"],
                    "kto_sources": o["kto_sources"],
                }
            )
            token = self._hub_token() if o["push_to_hub"] else ""
            count = feedback_export(spec=spec, out=o["out"])
            self.stdout.write(f"{count} {o['format']} rows written to {o['out']}")
            if o["push_to_hub"]:
                self.stdout.write(f"pushed to {self._push(o, token)}")
        except ApplicationError as exc:
            raise CommandError(exc.message) from None

    def _hub_token(self) -> str:
        from webapp.feedback.formats.hf_export import hf_hub_token  # noqa: PLC0415  (pyarrow only when asked)

        return hf_hub_token()

    def _push(self, o: dict, token: str) -> str:
        from webapp.feedback.formats.hf_export import hf_push  # noqa: PLC0415

        return hf_push(Path(o["out"]), o["push_to_hub"], token=token, private=o["private"])
