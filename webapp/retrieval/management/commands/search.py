"""Search the corpus in any language.

python manage.py search "Wie spät ist es?" --language en --language fr -k 5
python manage.py search "What time is it" --kind prompt --json     # one JSON object per line
python manage.py search "sky" --min-score 0.2                       # below SEARCH_MIN_SCORE too
"""

import json

from django.core.management.base import BaseCommand, CommandError

from webapp.errors import ApplicationError
from webapp.retrieval.selectors import search_texts


class Command(BaseCommand):
    help = "Cross-lingual search over prompts and responses."

    def add_arguments(self, parser):
        parser.add_argument("text")
        parser.add_argument("--language", action="append", default=[], help="repeatable BCP-47 tag")
        parser.add_argument("--kind", action="append", default=[], choices=["prompt", "response"])
        parser.add_argument("-k", type=int, default=10)
        parser.add_argument("--json", action="store_true", help="print one JSON object per result")
        parser.add_argument(
            "--min-score", type=float, default=None, help="similarity floor (0..1); default SEARCH_MIN_SCORE"
        )

    def handle(
        self, *args, text: str, language: list, kind: list, k: int, json: bool, min_score: float | None, **options
    ):
        try:
            found = search_texts(query=text, languages=language, kinds=kind, k=k, min_score=min_score)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        for warning in found.get("warnings", []):
            self.stderr.write(f"warning: {warning}")
        for hit in found["results"]:
            if json:
                self.stdout.write(_dumps(hit))
            else:
                self.stdout.write(
                    f"{hit['score']:.3f}  {hit['kind']:<8} {hit['id']:>7}  [{hit['language']}]  {hit['text'][:100]}"
                )


def _dumps(hit: dict) -> str:
    return json.dumps(hit, ensure_ascii=False)
