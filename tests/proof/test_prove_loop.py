"""`manage.py prove_loop` end to end with the tiny model: every step through the API and the job bodies,
a real DPO job on the tiny model, and answers from a scripted OpenAI-compatible server (INFERENCE_URL),
so that what the measures see is known: the parent answers half the held-out prompts in English, its
child answers all of them in the prompt's language. The real model's figures are the README's."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from webapp.feedback.models import Annotation, Prompt
from webapp.modelstore.models import ModelVariant
from webapp.proof.annotators import SimulatedAnnotator, read
from webapp.proof.prompt_sets import ProofPrompt
from webapp.proof.story import BUDGETS, Budget, ProofStory, in_process_client, proof_accounts
from webapp.training.models import TrainingJob

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ANSWERS = {  # language -> an answer in it
    "de": "Das ist eine gute Frage. Die Pflanze braucht wenig Wasser und einen hellen Platz am Fenster, "
    "und im Winter sollte man sie nicht zu oft gießen.",
    "it": "È una buona domanda. La pianta ha bisogno di poca acqua e di un posto luminoso vicino alla finestra, "
    "e in inverno non si deve innaffiare troppo spesso.",
    "sv": "Det är en bra fråga. Växten behöver lite vatten och en ljus plats vid fönstret, och på vintern "
    "ska man inte vattna den för ofta.",
}
ENGLISH = "This is a German phrase that translates to a question about plants, water and light in the winter."
REPEATED = "gut gut gut gut gut gut gut gut gut gut gut gut gut gut gut gut gut gut gut gut gut gut gut gut"

PROMPTS = [
    *[ProofPrompt(f"Frage {i}: Wie pflege ich die Pflanze im Winter?", "de", f"de-tr-{i}", "train") for i in range(5)],
    *[ProofPrompt(f"Domanda {i}: come curo questa pianta d'inverno?", "it", f"it-tr-{i}", "train") for i in range(5)],
    *[ProofPrompt(f"Wie koche ich Suppe Nummer {i} am besten?", "de", f"de-heldout-{i}", "heldout") for i in range(6)],
    *[ProofPrompt(f"Come cucino la zuppa numero {i}?", "it", f"it-heldout-{i}", "heldout") for i in range(6)],
    *[ProofPrompt(f"Hur lagar jag soppa nummer {i}?", "sv", f"sv-heldout-{i}", "heldout") for i in range(4)],
]
LANGUAGE_OF = {p.text: (p.language, i) for i, p in enumerate(PROMPTS)}
BUDGET = Budget("test", 2, 5, 4, 24, 5, 6, 16, 4, 1e-4, False, judge_min_items=3)


def scripted_answer(body: dict) -> str:
    """Samples (temperature > 0): by seed, in-language, English, in-language, repetitive. Greedy: the
    parent answers the even-numbered prompts in English, a trained child always in the language."""
    language, index = LANGUAGE_OF[body["messages"][-1]["content"]]
    if body["temperature"] > 0:
        return [ANSWERS[language], ENGLISH, ANSWERS[language] + " Viel Erfolg!", REPEATED][body["seed"] % 4]
    if "-dpo-" in body["model"] or index % 2:
        return ANSWERS[language]
    return ENGLISH


@pytest.fixture
def inference_server():
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            reply = json.dumps({"choices": [{"message": {"role": "assistant", "content": scripted_answer(body)}}]})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(reply.encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def play(budget=BUDGET, **kwargs):
    staff, annotators, set_languages = proof_accounts()
    lines: list[str] = []
    story = ProofStory(
        connect=in_process_client,
        staff_token=staff,
        annotator_tokens=annotators,
        set_languages=set_languages,
        budget=budget,
        prompts=PROMPTS,
        say=lines.append,
        **kwargs,
    )
    return story.play(), lines


def test_the_proof_plays_through_the_api_and_the_dpo_job_measures_parent_and_child(tiny_variants, inference_server):
    with override_settings(INFERENCE_URL=inference_server):
        result, lines = play(base_model="tiny-base")

    # Training languages by headroom: three of each prompt's four samples are in the language (the repeated
    # "gut" is German too, and the judge ranks it last as degenerate); sv has no training prompt.
    assert result.chosen == ["de", "it"]
    assert result.headroom["de"] == {"samples": 20, "in_language": 15, "share": 0.75}
    assert "held-out prompts only" in result.excluded["sv"]
    # The judge ranked every task; each simulated annotator ranked 5 per language through the API.
    assert Annotation.objects.filter(source="judge").count() == 10
    assert Annotation.objects.filter(source="annotation").count() == result.human_rankings == 20
    assert {row["language"] for row in result.judge_agreement} == {"de", "it"}
    assert all(row["agreement"] >= 0.8 for row in result.judge_agreement), result.judge_agreement

    job = TrainingJob.objects.get(pk=result.jobs["dpo"]["id"])
    assert job.kind == "dpo" and job.status == "succeeded"
    admitted = job.data_summary["snapshot"]["judges"]["by_language"]
    assert all(side["admitted"] for side in admitted.values()), admitted
    generation = job.evaluation["generation"]
    rows = {row["language"]: row for row in generation["languages"]}
    assert set(rows) == {"de", "it", "sv"} and rows["sv"]["unseen"] and not rows["de"]["unseen"]
    # Six held-out prompts in de and it, four in sv; the parent is in the language on the odd-numbered ones only.
    for language in ("de", "it", "sv"):
        assert rows[language]["parent"]["fidelity"] == 0.5 and rows[language]["child"]["fidelity"] == 1.0
    assert (rows["de"]["only_parent"], rows["de"]["only_child"]) == (0, 3)
    assert generation["pooled_trained"]["n"] == 12 and generation["pooled_trained"]["estimate"] == 0.5
    assert ModelVariant.objects.get(name=result.jobs["dpo"]["variant"]).parent.name == "tiny-base"
    assert any("training languages: de, it" in line for line in lines)


def write_prompts(folder):
    for language in ("de", "it", "sv"):
        rows = [vars(p) | {"prompt": p.text} for p in PROMPTS if p.language == language]
        lines = [json.dumps({k: r[k] for k in ("prompt", "language", "group", "split")}) for r in rows]
        (folder / f"{language}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_the_command_prints_the_table_and_names_the_variant_last(
    tiny_variants, inference_server, monkeypatch, tmp_path
):
    monkeypatch.setitem(BUDGETS, "small", BUDGET)
    folder = str(write_prompts(tmp_path))
    out = StringIO()
    with override_settings(INFERENCE_URL=inference_server):
        call_command("prove_loop", "--base-model", "tiny-base", "--prompts", folder, stdout=out)
    lines = out.getvalue().strip().splitlines()
    variant = ModelVariant.objects.get(kind="dpo", parent__name="tiny-base", lineage__job__isnull=False)
    assert lines[-1] == f"variant: {variant.name}"
    assert any(line.startswith("| de | yes | 6 | 0.50 [") for line in lines)
    assert any(line.startswith("| sv | unseen | 4 |") for line in lines)
    assert any(line.startswith("Phases: 1.") for line in lines)
    # A second run on the same store is refused: the proof wants an empty one.
    with override_settings(INFERENCE_URL=inference_server), pytest.raises(CommandError, match="empty store"):
        call_command("prove_loop", "--base-model", "tiny-base", "--prompts", folder, stdout=StringIO())
    assert Prompt.objects.filter(source="proof-train").count() == 10


def test_a_bad_prompt_file_is_refused_with_its_line(tmp_path):
    (tmp_path / "de.jsonl").write_text(
        '{"prompt": "Hallo?", "language": "de", "group": "g", "split": "train"}\n{"prompt": 1', encoding="utf-8"
    )
    with pytest.raises(CommandError, match="de.jsonl line 2"):
        call_command("prove_loop", "--prompts", str(tmp_path), stdout=StringIO())


def test_the_simulated_annotators_read_language_repetition_and_echo():
    assert read(ANSWERS["de"], "de", "Wie koche ich Suppe?").tier == 0
    assert read(ENGLISH, "de", "Wie koche ich Suppe?").tier == 1
    assert read(REPEATED, "de", "Wie koche ich Suppe?").tier == 2
    prompt = "Wie koche ich eine gute Suppe mit Gemüse und Kartoffeln am besten?"
    assert read("Wie koche ich eine gute Suppe mit Gemüse und Kartoffeln am besten", "de", prompt).tier == 2
    assert read("ja", "de", prompt).tier == 2
    answers = [(0, ENGLISH), (1, ANSWERS["de"]), (2, REPEATED), (3, ANSWERS["de"] + " Gut.")]
    assert SimulatedAnnotator(seed=1, slip=0).rank(task_id=7, prompt=prompt, language="de", answers=answers) == [
        [1, 3],
        [0],
        [2],
    ]
    slipped = SimulatedAnnotator(seed=1, slip=1).rank(task_id=7, prompt=prompt, language="de", answers=answers)
    assert slipped == [[0, 1, 3], [2]]
