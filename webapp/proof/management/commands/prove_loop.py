import os
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from webapp.proof.prompt_sets import PromptSetError, read_prompt_set
from webapp.proof.report import table, targets
from webapp.proof.story import (
    BUDGETS,
    ProofError,
    ProofStory,
    in_process_client,
    proof_accounts,
    remote_client,
)


class Command(BaseCommand):
    help = (
        "Show the loop making the model better in its training languages, on an empty store (make prove): "
        "on-policy answers with no language instruction, the language-fidelity judge admitted per language "
        "by its agreement with two simulated annotators, one DPO job, and its evaluation by generation on "
        "held-out prompts (parent vs child per language, paired test). The last line names the variant."
    )

    def add_arguments(self, parser):
        parser.add_argument("--budget", choices=sorted(BUDGETS), default="small", help="small (default) or full")
        parser.add_argument("--base-model", default="", help="a registered variant (default: install the bundled one)")
        parser.add_argument(
            "--languages", nargs="+", default=(), help="train these languages instead of choosing by headroom"
        )
        parser.add_argument(
            "--prompts",
            default="",
            help="a folder of <language>.jsonl prompt files (prompt, language, group, split train|heldout); "
            "default: the ones shipped in webapp/proof/prompts/",
        )
        parser.add_argument("--url", default="", help="play against this running app and its workers, not in-process")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, budget, base_model, languages, prompts, url, seed, **options):
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        started = time.monotonic()
        load = _load()
        try:
            prompt_set = read_prompt_set(Path(prompts)) if prompts else read_prompt_set()
        except PromptSetError as exc:
            raise CommandError(str(exc)) from None
        try:
            staff, annotators, set_languages = proof_accounts()
            story = ProofStory(
                connect=remote_client(url) if url else in_process_client,
                staff_token=staff,
                annotator_tokens=annotators,
                set_languages=set_languages,
                budget=BUDGETS[budget],
                base_model=base_model,
                inline=not url,
                languages=tuple(languages),
                prompts=prompt_set,
                seed=seed,
                say=self.stdout.write,
            )
            result = story.play()
        except ProofError as exc:
            raise CommandError(str(exc)) from None
        job = result.jobs["dpo"]
        generation = (job.get("evaluation") or {}).get("generation")
        if not generation:
            raise CommandError(f"training job {job['id']} stored no evaluation by generation")
        self.stdout.write("== 5. the result")
        for line in table(generation):
            self.stdout.write(line)
        if "sft" in result.jobs:
            sft = (result.jobs["sft"].get("evaluation") or {}).get("generation")
            if sft:
                self.stdout.write("SFT baseline on the same data:")
                for line in table(sft):
                    self.stdout.write(line)
        checks = targets(generation)
        for check in checks:
            self.stdout.write(f"{'met' if check.met else 'NOT met'}: {check.what}")
        self.stdout.write(
            "Phases: " + "; ".join(f"{name.split(' ', 1)[0]} {seconds:.0f} s" for name, seconds in result.phases)
        )
        self.stdout.write(
            f"Total {time.monotonic() - started:.0f} s, budget {budget}, load average at start {load} "
            f"and at the end {_load()} on {os.cpu_count()} cores"
        )
        self.stdout.write(
            self.style.SUCCESS("All targets met.")
            if all(c.met for c in checks)
            else self.style.WARNING("Some targets are not met (above).")
        )
        self.stdout.write(f"variant: {job['variant']}")


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"
