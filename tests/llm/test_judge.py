"""The pairwise LLM judge's logic (ml/llm/judge.py), with a scripted model: a prompt per language,
both orders asked, a pair decided only when they agree, answers parsed robustly, rankings by wins
minus losses. Figures worked out by hand."""

import pytest

from ml.llm.judge import (
    PROMPTS,
    clip,
    copeland_ranking,
    judging_prompt,
    pair_outcome,
    parse_choice,
    prompt_language,
    rank_pairwise,
)


@pytest.mark.parametrize(
    "text,choice",
    [
        ("A", "A"),
        (" B.", "B"),
        ("Answer: B", "B"),  # the A of "Answer" is inside a word
        ("**A** is better", "A"),
        ("The better one is [[B]], not A", "B"),  # an explicit [[X]] wins
        ("回答A更好", "A"),
        ("Ｂ", "B"),  # full width
        ("الإجابة ب", "B"),
        ("أ", "A"),
        ("Both are fine", None),
        ("", None),
        ("Antwort: keine", None),
    ],
)
def test_the_answer_is_read_from_the_first_standalone_letter(text, choice):
    assert parse_choice(text) == choice


@pytest.mark.parametrize(
    "code,key",
    [("en", "en"), ("de-AT", "de"), ("es-419", "es"), ("ar", "ar"), ("zh-Hans", "zh-Hans"), ("zh-hans", "zh-Hans")],
)
def test_each_interface_language_has_its_prompt(code, key):
    assert prompt_language(code) == key
    content = judging_prompt(question="Q?", first="one", second="two", language=code)[0]["content"]
    assert content == PROMPTS[key].format(question="Q?", a="one", b="two")


@pytest.mark.parametrize("code", ["fr", "zh-Hant", "sw"])
def test_other_languages_get_the_english_prompt_naming_the_language(code):
    assert prompt_language(code) is None
    [message] = judging_prompt(question="Q?", first="one", second="two", language=code, language_name="Name")
    assert message["role"] == "user"
    assert message["content"].startswith(f"The question and the answers are in Name ({code}).\n\nWhich answer")


def test_a_pair_is_decided_only_when_both_orders_agree():
    assert pair_outcome("A", "B") == 1  # i first, then i second: both times i
    assert pair_outcome("B", "A") == -1
    assert pair_outcome("A", "A") == 0  # position bias: it always picks the first shown
    assert pair_outcome("A", None) == 0


def test_the_ranking_is_by_wins_minus_losses_with_equal_scores_tied():
    # 0 beats 1, 1 beats 2, 0 and 2 undecided: scores 0:+1, 1:0, 2:-1.
    assert copeland_ranking(3, {(0, 1): 1, (1, 2): 1, (0, 2): 0}) == [[0], [1], [2]]
    # A cycle 0 > 1 > 2 > 0: every score 0, all tied.
    assert copeland_ranking(3, {(0, 1): 1, (1, 2): 1, (0, 2): -1}) == [[0, 1, 2]]
    assert copeland_ranking(2, {(0, 1): 0}) == [[0, 1]]


def test_every_pair_is_asked_in_both_orders_and_decided_by_hand():
    """A scripted model that prefers the longer answer, except that it always says A when the two are
    the same length (position bias): answers 'ccc' > 'bb', and 'x' vs 'y' is undecided."""
    asked = []

    def model(conversations):
        replies = []
        for conversation in conversations:
            text = conversation[0]["content"]
            a = text.split("Answer A:\n")[1].split("\n\nAnswer B:")[0]
            b = text.split("Answer B:\n")[1].split("\n\nReply")[0]
            asked.append((a, b))
            replies.append("A" if len(a) >= len(b) else "Answer: B")
        return replies

    ranking, outcomes = rank_pairwise(model, question="?", answers=["x", "ccc", "y", "bb"], language="en", batch_size=5)
    assert len(asked) == 12 and set(asked) == {
        (a, b) for a in "x ccc y bb".split() for b in "x ccc y bb".split() if a != b
    }
    # pairs (i<j): (0,1) ccc: -1; (0,2) x/y: A both times, 0; (0,3) bb: -1; (1,2) ccc: +1; (1,3) ccc: +1; (2,3) bb: -1
    assert outcomes == {(0, 1): -1, (0, 2): 0, (0, 3): -1, (1, 2): 1, (1, 3): 1, (2, 3): -1}
    # scores: 0: -2, 1: +3, 2: -2, 3: +1
    assert ranking == [[1], [3], [0, 2]]


def test_a_model_that_answers_too_few_prompts_is_an_error():
    with pytest.raises(ValueError, match="answered 1 of 2"):
        rank_pairwise(lambda conversations: ["A"], question="?", answers=["a", "b"], language="en")


def test_long_texts_are_clipped_so_both_answers_and_the_question_fit():
    assert clip("short", 100) == "short"
    long = "word " * 400  # 2000 characters
    cut = clip(long, 100)
    assert len(cut) <= 100 and cut.endswith(" […]") and cut.startswith("word word")
    assert clip("x" * 300, 50) == "x" * (50 - len(" […]")) + " […]"  # no space near the end: cut mid-word
    runaway, other = "ha" * 5000, "A short, clear answer."
    (message,) = judging_prompt(question="Q?", first=runaway, second=other, language="en", max_chars=200)
    assert "A short, clear answer." in message["content"] and "Reply with one letter only" in message["content"]
    assert len(message["content"]) < 200 + 200 + 400
