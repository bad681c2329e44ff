"""manage.py evaluate_variants: figures computed by hand from a scripted backend (fixed answers, one id per
character), the paired comparison on a hand-made discordant set, bad input refused before anything is
generated, and a run on the tiny real models through the local backend."""

import io
import json

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from ml.evaluation.generation_eval import FIGURE_KEYS
from ml.evaluation.stats import paired_difference
from ml.llm.files import write_folder_atomically
from webapp.modelstore import evaluation as service
from webapp.modelstore.evaluation import BadEvaluationInput, EvaluationSettings, evaluation_run
from webapp.modelstore.services import variant_register

pytestmark = pytest.mark.django_db

GERMAN = [
    "Berlin ist die Hauptstadt und hat viele Museen.",
    "Ich koche gern Suppe mit frischem Gemüse.",
    "Der Hund schläft im Garten unter dem Baum.",
    "Morgen regnet es in ganz Bayern.",
    "Wir lesen jeden Abend ein Buch zusammen.",
    "Das Wasser kocht bei hundert Grad.",
    "Die Katze sitzt auf dem warmen Ofen.",
]
LOOP = "Das ist gut. Das ist gut. Das ist gut. Das ist gut."  # "Das " 4 times: 16 of 51 characters
ENGLISH = ["The capital of Germany is Berlin.", "I like to cook soup with fresh vegetables.", "Yes, I can help."]
ARABIC = ["عاصمة مصر هي القاهرة وهي مدينة كبيرة.", "أنا أحب القراءة في المساء.", "الشمس تشرق من الشرق."]
AR_PROMPTS = ["ما هي عاصمة مصر؟", "ماذا تحب أن تفعل؟", "من أين تشرق الشمس؟", "صف مدينتك."]
DE_PROMPTS = [f"Aufgabe {i}: bitte antworte." for i in range(1, 11)]
MI_PROMPT = "Kōrero mai."
FAIL = "fail"

# Variant A: German 1-8 in German (8 is a loop), 9-10 English; Arabic all in Arabic (the first echoes
# its prompt). Variant B: German 1-4 and 9 in German, 5, 6, 8 English, 7 empty, 10 fails; Arabic only 1.
ANSWERS = {
    "var-a": {
        **dict(zip(DE_PROMPTS, [*GERMAN, LOOP, ENGLISH[0], ENGLISH[1]], strict=True)),
        **dict(zip(AR_PROMPTS, [AR_PROMPTS[0] + " القاهرة.", *ARABIC], strict=True)),
        MI_PROMPT: "Hello there.",
    },
    "var-b": {
        **dict(zip(DE_PROMPTS, [*GERMAN[:4], ENGLISH[0], ENGLISH[1], "", ENGLISH[2], GERMAN[5], FAIL], strict=True)),
        **dict(zip(AR_PROMPTS, [ARABIC[0], *ENGLISH], strict=True)),
        MI_PROMPT: "Hello there.",
    },
}


class CharTokenizer:
    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": [ord(c) for c in text]}


class ScriptedBackend:
    def __init__(self):
        self.calls = []

    def generate_batch(self, ref, conversations, params):
        self.calls.append((ref.name, conversations, params))
        texts = [ANSWERS[ref.name][c[-1]["content"]] for c in conversations]
        if FAIL in texts:
            raise RuntimeError("out of memory")
        return texts

    def tokenizer_for(self, ref):
        return CharTokenizer()


@pytest.fixture
def variants(db):
    """Two registered, ready variants (files complete, never loaded: the scripted backend answers)."""
    for name in ANSWERS:
        path = f"base/{name}"
        write_folder_atomically(settings.MODELS_STORE / path, lambda tmp: tmp.mkdir())
        variant_register(name=name, kind="base", path=path)


@pytest.fixture
def backend(monkeypatch):
    scripted = ScriptedBackend()
    monkeypatch.setattr(service, "inference_backend", lambda: scripted)
    return scripted


def prompts_file(tmp_path, lines: list, name="prompts.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines) + "\n")
    return path


@pytest.fixture
def hand_made(tmp_path):
    lines = [{"prompt": p, "language": "de"} for p in DE_PROMPTS[:5]]
    lines += [{"prompt": p, "language": "ar"} for p in AR_PROMPTS]
    lines += [{"prompt": MI_PROMPT, "language": "mi"}]
    lines += [""]  # a blank line is skipped
    lines += [{"prompt": p, "language": "de"} for p in DE_PROMPTS[5:]]
    return prompts_file(tmp_path, lines)


def figures_by_key(evaluation):
    return {(f.variant, f.language): f for f in evaluation.figures}


def test_figures_per_variant_and_language(variants, backend, hand_made):
    with open(hand_made, "rb") as handle:
        evaluation = evaluation_run(variants=["var-a", "var-b"], prompts=handle)
    got = figures_by_key(evaluation)
    assert list(got) == [(v, lang) for v in ("var-a", "var-b") for lang in ("ar", "de", "mi")]

    a_de = got["var-a", "de"]
    assert (a_de.n, a_de.fidelity) == (10, 0.8)
    assert (round(a_de.ci_low, 4), round(a_de.ci_high, 4)) == (0.4902, 0.9433)  # Wilson, 8 of 10
    assert a_de.mean_tokens == (sum(map(len, GERMAN)) + len(LOOP) + len(ENGLISH[0]) + len(ENGLISH[1])) / 10
    assert (a_de.degenerate, a_de.echo) == (0.1, 0.0)  # the loop; nothing repeats its prompt

    a_ar = got["var-a", "ar"]
    assert (a_ar.n, a_ar.fidelity, round(a_ar.ci_low, 4), a_ar.ci_high) == (4, 1.0, 0.5101, 1.0)
    assert (a_ar.degenerate, a_ar.echo) == (0.0, 0.25)  # the first answer repeats its prompt

    b_de = got["var-b", "de"]
    assert (b_de.n, b_de.fidelity) == (10, 0.5)  # empty and failed answers count, as misses
    assert (round(b_de.ci_low, 4), round(b_de.ci_high, 4)) == (0.2366, 0.7634)
    assert b_de.mean_tokens == (sum(map(len, GERMAN[:4])) + len(ENGLISH[0] + ENGLISH[1] + ENGLISH[2] + GERMAN[5])) / 10
    b_ar = got["var-b", "ar"]
    assert (b_ar.n, b_ar.fidelity, round(b_ar.ci_low, 4), round(b_ar.ci_high, 4)) == (4, 0.25, 0.0456, 0.6994)

    for variant in ("var-a", "var-b"):
        mi = got[variant, "mi"]
        assert (mi.n, mi.fidelity, mi.ci_low, mi.ci_high) == (1, None, None, None)  # reported, not counted
    assert [a.error for a in evaluation.failures("var-b")] == ["RuntimeError: out of memory"]


def test_paired_comparison_on_a_hand_made_discordant_set(variants, backend, hand_made):
    with open(hand_made, "rb") as handle:
        comparison = evaluation_run(variants=["var-a", "var-b"], prompts=handle).comparison
    assert comparison is not None and (comparison.variant_a, comparison.variant_b) == ("var-a", "var-b")
    de, ar = (next(x for x in comparison.languages if x.language == lang) for lang in ("de", "ar"))
    # German: only A on prompts 5-8, only B on 9; McNemar 2 x (C(5,0) + C(5,1)) / 2^5.
    assert (de.n, de.only_a, de.only_b, de.p_value) == (10, 4, 1, 0.375)
    assert (ar.n, ar.only_a, ar.only_b, ar.p_value) == (4, 3, 0, 0.25)  # 2 x (1/2)^3
    assert [x.language for x in comparison.languages] == ["ar", "de"] and comparison.not_measurable == ["mi"]
    pooled = comparison.pooled  # 14 measurable prompts: both 5, only A 7, only B 1, neither 1
    assert (pooled.n, pooled.both, pooled.only_a, pooled.only_b, pooled.neither) == (14, 5, 7, 1, 1)
    assert pooled.estimate == pytest.approx(12 / 14 - 6 / 14)
    expected = paired_difference([True] * 12 + [False] * 2, [True] * 5 + [False] * 7 + [True] + [False])
    assert (pooled.ci_low, pooled.ci_high) == (expected.ci_low, expected.ci_high)
    assert pooled.ci_low > 0  # A is better, and the interval says so


def test_generation_is_greedy_batched_and_given_the_user_message(variants, backend, tmp_path):
    messages = [{"role": "user", "content": DE_PROMPTS[1]}]
    path = prompts_file(tmp_path, [{"prompt": p, "language": "de"} for p in DE_PROMPTS[:1] + DE_PROMPTS[2:9]])
    path.write_text(path.read_text() + json.dumps({"prompt": messages, "language": "de"}) + "\n")
    with open(path, "rb") as handle:
        evaluation_run(variants=["var-a"], prompts=handle, settings=EvaluationSettings(max_new_tokens=32, batch_size=4))
    assert [len(c[1]) for c in backend.calls] == [4, 4, 1]
    first_name, conversations, params = backend.calls[0]
    assert first_name == "var-a" and conversations[0] == [{"role": "user", "content": DE_PROMPTS[0]}]
    assert backend.calls[-1][1] == [messages]
    assert (params.temperature, params.max_new_tokens) == (0.0, 32)


def test_a_failing_batch_is_retried_prompt_by_prompt(variants, backend, tmp_path):
    path = prompts_file(tmp_path, [{"prompt": p, "language": "de"} for p in DE_PROMPTS])
    with open(path, "rb") as handle:
        evaluation = evaluation_run(variants=["var-b"], prompts=handle, settings=EvaluationSettings(batch_size=8))
    sizes = [len(c[1]) for c in backend.calls]
    assert sizes == [8, 2, 1, 1]  # the second batch holds prompt 10, which fails alone
    assert [a.text for a in evaluation.answers["var-b"]][-1] == ""


def test_the_command_prints_json_lines_with_exactly_the_figure_keys(variants, backend, hand_made):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "evaluate_variants", "--variant", "var-a", "--variant", "var-b", "--prompts", str(hand_made), "--json",
        stdout=out, stderr=err,
    )  # fmt: skip
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(rows) == 6 and all(list(row) == list(FIGURE_KEYS) for row in rows)
    a_de = next(r for r in rows if (r["variant"], r["language"]) == ("var-a", "de"))
    assert (a_de["n"], a_de["fidelity"], a_de["degenerate"]) == (10, 0.8, 0.1)
    assert next(r for r in rows if r["language"] == "mi")["fidelity"] is None
    assert "only A" in err.getvalue() and "var-b: 1 of 15 generations failed" in err.getvalue()


def test_the_command_prints_the_table_and_the_comparison(variants, backend, hand_made):
    out = io.StringIO()
    call_command(
        "evaluate_variants", "--variant", "var-a", "--variant", "var-b", "--prompts", str(hand_made),
        stdout=out, stderr=io.StringIO(),
    )  # fmt: skip
    text = out.getvalue()
    assert "var-a    de           10     0.800  0.490-0.943            39.8       0.100  0.000" in text
    assert "var-b    mi            1         -  not measurable         12.0       0.000  0.000" in text
    assert "de           10       4       1   0.375" in text
    assert "pooled       14       7       1   0.070  fidelity A - B = +0.429, 95% CI +0.063 to +0.672" in text
    assert "not measurable, left out: mi" in text


def test_every_generation_failing_is_an_error(variants, backend, tmp_path):
    path = prompts_file(tmp_path, [{"prompt": DE_PROMPTS[9], "language": "de"}])
    with pytest.raises(CommandError, match="Every generation failed for var-b"):
        call_command(
            "evaluate_variants",
            "--variant",
            "var-b",
            "--prompts",
            str(path),
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )


GOOD = {"prompt": "Wie spät ist es?", "language": "de"}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{not json", "line 2: bad JSON"),
        ({"prompt": "   ", "language": "de"}, "line 2: 'prompt' is empty"),
        ({"prompt": "", "language": "de"}, "line 2: 'prompt' is empty"),
        ({"prompt": [], "language": "de"}, "line 2: 'prompt' is an empty message list"),
        ({"language": "de"}, "line 2: 'prompt' is missing"),
        ({"prompt": "Hallo", "language": "xx"}, "line 2: 'xx' is not a valid BCP-47 language tag"),
        ({"prompt": "Hallo", "language": "de-YY"}, "line 2: 'de-YY' is not a valid BCP-47 language tag"),
        ({"prompt": "Hallo", "language": "not a tag"}, "line 2: 'not a tag' is not a valid BCP-47"),
        ({"prompt": "Hallo"}, "line 2: 'language' must be a BCP-47 tag"),
        ({"prompt": "Hallo", "language": 7}, "line 2: 'language' must be a BCP-47 tag"),
        ([1, 2], "line 2: each line must be a JSON object"),
        (
            {
                "prompt": [{"role": "user", "content": "Hallo"}, {"role": "assistant", "content": "Hi"}],
                "language": "de",
            },
            "line 2: the last message of 'prompt' must be the user's",
        ),
        ({"prompt": "Hallo\u0000", "language": "de"}, "line 2: 'prompt' contains a NUL"),
        ("[" * 70 + "]" * 70, "line 2: the JSON nests"),
    ],
)
def test_bad_lines_are_named_and_nothing_is_generated(variants, monkeypatch, tmp_path, bad, message):
    monkeypatch.setattr(service, "inference_backend", never_called)
    path = prompts_file(tmp_path, [GOOD, bad, GOOD])
    with pytest.raises(CommandError) as caught:
        call_command("evaluate_variants", "--variant", "var-a", "--prompts", str(path), stdout=io.StringIO())
    assert message in caught.value.args[0]
    assert "nothing was generated" in caught.value.args[0]


def never_called():
    raise AssertionError("the backend was created: something would have been generated")


def test_every_bad_line_is_listed(variants, monkeypatch, tmp_path):
    monkeypatch.setattr(service, "inference_backend", never_called)
    path = prompts_file(tmp_path, [GOOD, "{", GOOD, {"prompt": "", "language": "de"}])
    path.write_bytes(path.read_bytes() + b'{"prompt": "\xff", "language": "de"}\n')
    with pytest.raises(BadEvaluationInput) as caught, open(path, "rb") as handle:
        evaluation_run(variants=["var-a"], prompts=handle)
    assert caught.value.message.splitlines()[1:] == [
        "line 2: bad JSON: Expecting property name enclosed in double quotes at column 2",
        "line 4: 'prompt' is empty",
        "line 5: not valid UTF-8 (byte 12)",
    ]


def test_more_than_10000_prompts_are_refused_naming_the_line(variants, monkeypatch, tmp_path):
    monkeypatch.setattr(service, "inference_backend", never_called)
    path = prompts_file(tmp_path, [GOOD] * 10_000)
    with open(path, "rb") as handle:
        assert len(service.read_prompts(handle)) == 10_000  # exactly the limit is fine
    path.write_text(path.read_text() + "\n" + json.dumps(GOOD) + "\n")  # a blank line, then prompt 10,001
    with pytest.raises(CommandError, match="line 10002 is prompt 10001: at most 10000 prompts"):
        call_command("evaluate_variants", "--variant", "var-a", "--prompts", str(path), stdout=io.StringIO())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--variant", "nope"], "Unknown variant(s): nope (registered: var-a, var-b)"),
        (["--variant", "var-a", "--variant", "var-a"], "named more than once: var-a"),
        (["--variant", "var-a", "--max-new-tokens", "0"], "max_new_tokens must be between 1 and 4096"),
        (["--variant", "var-a", "--temperature", "3"], "temperature must be between 0 and 2"),
        (["--variant", "var-a", "--batch-size", "0"], "batch_size must be between 1 and 64"),
    ],
)
def test_bad_settings_and_unknown_variants_are_refused_first(variants, monkeypatch, tmp_path, args, message):
    monkeypatch.setattr(service, "inference_backend", never_called)
    path = prompts_file(tmp_path, [GOOD])
    with pytest.raises(CommandError) as caught:
        call_command("evaluate_variants", *args, "--prompts", str(path), stdout=io.StringIO())
    assert message in caught.value.args[0]


def test_missing_and_empty_files_are_refused(variants, monkeypatch, tmp_path):
    monkeypatch.setattr(service, "inference_backend", never_called)
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("evaluate_variants", "--variant", "var-a", "--prompts", str(tmp_path / "none.jsonl"))
    with pytest.raises(CommandError, match="holds no prompt"):
        call_command("evaluate_variants", "--variant", "var-a", "--prompts", str(prompts_file(tmp_path, ["", "  "])))


def test_a_run_on_the_tiny_models_through_the_local_backend(tiny_variants, tmp_path, monkeypatch):
    from ml.llm.inference import LocalBackend

    calls = []
    original = LocalBackend.generate_batch

    def spy(self, ref, conversations, params):
        calls.append((ref.name, len(conversations), params.temperature))
        return original(self, ref, conversations, params)

    monkeypatch.setattr(LocalBackend, "generate_batch", spy)
    lines = [{"prompt": GERMAN[i], "language": "de"} for i in range(3)] + [{"prompt": ARABIC[0], "language": "ar"}]
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "evaluate_variants", "--variant", "tiny-base", "--variant", "tiny-a", "--prompts",
        str(prompts_file(tmp_path, lines)), "--max-new-tokens", "6", "--batch-size", "3", "--json",
        stdout=out, stderr=err,
    )  # fmt: skip
    assert calls == [("tiny-base", 3, 0.0), ("tiny-base", 1, 0.0), ("tiny-a", 3, 0.0), ("tiny-a", 1, 0.0)]
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["variant"], r["language"], r["n"]) for r in rows] == [
        ("tiny-base", "ar", 1), ("tiny-base", "de", 3), ("tiny-a", "ar", 1), ("tiny-a", "de", 3),
    ]  # fmt: skip
    for row in rows:
        assert 0 <= row["fidelity"] <= 1 and row["ci_low"] <= row["fidelity"] <= row["ci_high"]
        assert 0 < row["mean_tokens"] <= 8  # 6 generated; re-encoding random tokens may split one or two
    assert "Paired comparison: A = tiny-base, B = tiny-a" in err.getvalue()
