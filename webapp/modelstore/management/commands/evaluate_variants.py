import sys

from django.core.management.base import BaseCommand, CommandError

from webapp.errors import ApplicationError
from webapp.modelstore.evaluation import (
    EvaluationSettings,
    all_failed,
    comparison_table,
    evaluation_run,
    failure_notes,
    figures_table,
    json_lines,
)


class Command(BaseCommand):
    help = (
        "Evaluate variants by generation: each answers every prompt of a JSON Lines file "
        '({"prompt": <string or chat messages>, "language": <BCP-47>} per line), greedy and batched. '
        "Per variant and language: n, fidelity (share of answers in the expected language) with its 95%% "
        "Wilson interval, mean_tokens, and the shares of degenerate and echo answers; for two variants, the "
        "paired comparison (exact McNemar per language, pooled difference with Newcombe's interval)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--variant", action="append", dest="variants", required=True, help="variant name")
        parser.add_argument("--prompts", required=True, help="JSON Lines file of prompts (at most 10,000)")
        parser.add_argument("--max-new-tokens", type=int, default=256)
        parser.add_argument("--seed", type=int, default=1234, help="used only when sampling")
        parser.add_argument("--temperature", type=float, default=0.0, help="0 (the default) is greedy")
        parser.add_argument("--batch-size", type=int, default=8)
        parser.add_argument(
            "--json",
            action="store_true",
            help="one JSON object per (variant, language) per line on stdout, with exactly the keys variant, "
            "language, n, fidelity, ci_low, ci_high, mean_tokens, degenerate, echo; the paired comparison "
            "goes to stderr as text",
        )

    def handle(self, *args, **o):
        self.verbosity = o["verbosity"]
        settings = EvaluationSettings(
            max_new_tokens=o["max_new_tokens"], temperature=o["temperature"], seed=o["seed"], batch_size=o["batch_size"]
        )
        try:
            with open(o["prompts"], "rb") as handle:
                evaluation = evaluation_run(
                    variants=o["variants"],
                    prompts=handle,
                    name=o["prompts"],
                    settings=settings,
                    on_progress=self._progress,
                )
        except OSError as exc:
            raise CommandError(f"Cannot read {o['prompts']}: {exc.strerror or exc}") from None
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        comparison = comparison_table(evaluation)
        if o["json"]:
            for line in json_lines(evaluation):
                self.stdout.write(line)
            if comparison:
                self.stderr.write(comparison, style_func=str)
        else:
            self.stdout.write(figures_table(evaluation))
            if comparison:
                self.stdout.write("\n" + comparison)
        for note in failure_notes(evaluation):
            self.stderr.write(note)
        failed = all_failed(evaluation)
        if failed:
            raise CommandError(f"Every generation failed for {', '.join(failed)}.")

    def _progress(self, variant: str, done: int, total: int) -> None:
        if self.verbosity >= 1 and sys.stderr.isatty():
            end = "\n" if done == total else ""
            self.stderr.write(f"\r{variant}: {done}/{total} answers", style_func=str, ending=end)
