"""The arena's part of the demo (`manage.py seed_demo`; registered in `demo_seeders`,
webapp/feedback/extensions.py): a few voted anonymous battles between the demo models, in several
languages, with wins, a tie and a "both are bad", so the leaderboard, /arena-stats/ and the arena and
kto exports have rows at a first look.

demo_data/battles.jsonl names each battle's demo prompt by key ("demo-g1:en"), its two models by letter,
the winner (as in a Chatbot Arena log: model_a, model_b, tie, "tie (bothbad)") and the voter; the
answers are the demo responses' texts (webapp/feedback/demo_data/prompts.jsonl), never generated.

The demo models have no files, so no live battle can serve them (variant_ref refuses them, and only
servable variants are enrolled). The battles come in the way an arena's battles from elsewhere do: as a
battle log, through the `arena` import format (logs.py), which keeps the models as external variants:
rated, never served. Their origin is `local`, so the boards, which count this arena's own votes, show
them: the demo's voters stand for this arena's visitors, as its annotators stand for real ones. The
import is keyed by question_id; once the demo's battles are stored, nothing is imported again."""

import json
import tempfile
from pathlib import Path

from webapp.arena import logs
from webapp.arena.models import Battle
from webapp.feedback.demo import PROMPTS, model_name
from webapp.feedback.extensions import demo_seeders
from webapp.feedback.services.importing import feedback_import
from webapp.feedback.sources import ORIGIN_LOCAL

BATTLES = Path(__file__).with_name("demo_data") / "battles.jsonl"


def read_battles() -> list[dict]:
    with BATTLES.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def arena_demo_seed() -> dict[str, int]:
    """Import the demo's battles as a battle log, unless they are stored already. Returns {"battles": n}."""
    battles = read_battles()
    if Battle.objects.filter(external_id__in=[battle["id"] for battle in battles]).exists():
        return {"battles": 0}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "demo-battles.jsonl"
        path.write_text("".join(json.dumps(log_record(b), ensure_ascii=False) + "\n" for b in battles), "utf-8")
        report = feedback_import(path=path, format=logs.NAME, origin=ORIGIN_LOCAL)
    return {"battles": report.created.get("battles", 0)}


def log_record(battle: dict) -> dict:
    """One demo battle as a Chatbot Arena log record, with the demo prompt's responses as its answers."""
    prompt = next(p for p in PROMPTS if p.key == battle["prompt"])
    answers = {response["model"]: response["text"] for response in prompt.responses}

    def conversation(letter: str) -> list[dict[str, str]]:
        return [{"role": "user", "content": prompt.text}, {"role": "assistant", "content": answers[letter]}]

    return {
        "question_id": battle["id"],
        "model_a": model_name(battle["model_a"]),
        "model_b": model_name(battle["model_b"]),
        "winner": battle["winner"],
        "judge": battle["judge"],
        "turn": 1,
        "anony": True,
        "language": prompt.language,
        "conversation_a": conversation(battle["model_a"]),
        "conversation_b": conversation(battle["model_b"]),
    }


demo_seeders.register("arena", arena_demo_seed)
