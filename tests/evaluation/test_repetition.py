"""degenerate and echo: the definitions on hand-made id lists (every share below counted by hand), then the
text wrappers in Latin, Arabic, CJK, Cyrillic and Devanagari script, first with one id per character (so
the counts stay countable by hand), then with the real SmolLM2 tokenizer."""

from pathlib import Path

import pytest
from django.conf import settings

from ml.evaluation.repetition import (
    degenerate,
    degenerate_ids,
    echo,
    echo_ids,
    repeat_coverage,
    token_ids,
    truncated,
)

DISTINCT = list(range(100, 200))  # ids that never repeat


def test_a_4gram_three_times_over_more_than_30_percent_is_degenerate():
    ids = [1, 2, 3, 4] * 3 + [5, 6, 7, 8]  # 16 tokens; (1,2,3,4) at 0, 4, 8 covers 12 of them
    assert repeat_coverage(ids) == 12 / 16
    assert degenerate_ids(ids)


def test_coverage_counts_overlapping_occurrences_once_and_30_percent_is_not_enough():
    exactly = [9] * 6 + DISTINCT[:14]  # (9,9,9,9) at 0, 1, 2 covers positions 0-5: 6 of 20 = 30%
    assert repeat_coverage(exactly) == pytest.approx(0.30)
    assert not degenerate_ids(exactly)
    above = [9] * 7 + DISTINCT[:13]  # at 0-3, covering 0-6: 7 of 20 = 35%
    assert repeat_coverage(above) == pytest.approx(0.35)
    assert degenerate_ids(above)


def test_two_occurrences_are_no_repeat():
    ids = [1, 2, 3, 4] * 2 + DISTINCT[:8]  # 8 of 16 covered, but only twice
    assert repeat_coverage(ids) == 0.0
    assert not degenerate_ids(ids)


def test_an_answer_under_16_tokens_is_degenerate_only_when_cut_off_inside_the_repeat():
    ids = [1, 2, 3, 4] * 3 + [5, 6, 7]  # 15 tokens, 12 covered (80%)
    assert not degenerate_ids(ids)
    assert not degenerate_ids(ids, truncated=True)  # it ends with (4, 5, 6, 7) after (3, 4, 5, 6): no repeat
    ends_in_repeat = [5, 6, 7] + [1, 2, 3, 4] * 3  # 15 tokens ending inside the repeat
    assert not degenerate_ids(ends_in_repeat)
    assert degenerate_ids(ends_in_repeat, truncated=True)


def test_hitting_the_limit_inside_a_repeat_is_degenerate_whatever_the_coverage():
    head = [1, 2, 3, 4] * 3 + DISTINCT[:28]  # 40 tokens, 12 covered = 30%: not degenerate by coverage
    tail = DISTINCT[:28] + [1, 2, 3, 4] * 3  # the same, the repeat at the end
    assert repeat_coverage(head) == repeat_coverage(tail) == pytest.approx(0.30)
    assert not degenerate_ids(head) and not degenerate_ids(tail)
    assert not degenerate_ids(head, truncated=True)  # cut off, but not while repeating
    assert degenerate_ids(tail, truncated=True)
    changed_last = DISTINCT[:28] + [1, 2, 3, 4] * 3 + [99]  # the last token re-encoded into another
    assert degenerate_ids(changed_last, truncated=True)  # (1, 2, 3, 4) ends one token before the end
    assert not degenerate_ids(DISTINCT[:28] + [1, 2, 3, 4] * 3 + [98, 99], truncated=True)
    partly = DISTINCT[:30] + [1, 2, 3, 4] * 2 + [1, 2]  # 40 tokens, cut off inside the third (1,2,3,4)
    assert not degenerate_ids(partly, truncated=True)  # (1,2,3,4) occurs twice only: no such repeat
    long_unit = DISTINCT[:10] + DISTINCT[:10] + DISTINCT[:10] + DISTINCT[:3]  # a 10-token unit, 3.3 times
    assert repeat_coverage(long_unit) == pytest.approx(12 / 33)  # each 4-gram: 3 x 4 positions of 33
    assert degenerate_ids(long_unit)


def test_a_normal_answer_is_not_degenerate():
    assert not degenerate_ids(DISTINCT[:60])
    assert not degenerate_ids(DISTINCT[:60], truncated=True)
    assert not degenerate_ids([])


def test_echo_is_more_than_half_of_the_answer_4grams_in_the_prompt():
    prompt = list(range(1, 11))
    assert echo_ids([3, 4, 5, 6, 7, 8, 50, 51], prompt)  # 5 4-grams, 3 in the prompt: 60%
    assert not echo_ids([3, 4, 5, 6, 7, 50, 51], prompt)  # 4 4-grams, 2 in the prompt: exactly 50%
    assert not echo_ids([3, 4, 5, 6, 7, 50, 51, 52], prompt)  # 2 of 5: 40%
    assert not echo_ids([3, 4, 5], prompt)  # no 4-gram at all
    # Counted per position: 1234 2345 3451 4512 5123 1234 2345, 4 of 7 in the prompt (distinct: 2 of 5).
    assert echo_ids([1, 2, 3, 4, 5, 1, 2, 3, 4, 5], prompt)


def test_the_token_limit_is_read_from_the_answer_length():
    assert truncated([1] * 64, 64) and truncated([1] * 63, 64)  # one token of slack (see the docstring)
    assert not truncated([1] * 62, 64)
    assert not truncated([1] * 64, None)


class CharTokenizer:
    """One id per character: counts that can be checked by hand in any script."""

    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": [ord(c) for c in text]}


CHAR = CharTokenizer()

# (language, a short unit repeated, a normal answer, its prompt)
SCRIPTS = [
    ("de", "gut, ", "Die Hauptstadt von Deutschland ist Berlin.", "Nenne eine große Stadt."),
    ("ar", "نعم، ", "عاصمة مصر هي القاهرة وهي مدينة كبيرة.", "ما هي عاصمة مصر؟"),
    ("zh-Hans", "好的好的。", "北京是中国的首都，也是一座历史悠久的城市，有很多博物馆和公园。", "中国的首都是哪里？"),
    ("ru", "да, ", "Москва — столица России и самый большой город страны.", "Какая столица России?"),
    ("hi", "हाँ, ", "भारत की राजधानी नई दिल्ली है।", "भारत की राजधानी क्या है?"),
]


@pytest.mark.parametrize(("tag", "unit", "normal", "prompt"), SCRIPTS)
def test_text_wrappers_by_character(tag, unit, normal, prompt):
    looping = unit * 6  # every 4-gram of the unit occurs at least 4 times
    ids = token_ids(looping, CHAR)
    assert len(ids) == 6 * len(unit) >= 24
    assert repeat_coverage(ids) > 0.3  # at least 5 occurrences x 4 positions / (6 x at most 5 characters)
    assert degenerate(looping, CHAR)
    assert not degenerate(normal, CHAR)
    cut = normal + unit * 3  # three times: 12 positions of at least 40, not degenerate by coverage
    assert repeat_coverage(token_ids(cut, CHAR)) <= 0.3
    assert degenerate(cut, CHAR, max_new_tokens=len(cut))  # but cut off while looping
    assert not degenerate(cut, CHAR, max_new_tokens=200)  # stopped by itself
    assert echo(prompt + " " + normal[:4], prompt, CHAR)  # the prompt back, and four characters more
    assert not echo(normal, prompt, CHAR)
    assert echo(prompt, [{"role": "system", "content": "Sei kurz."}, {"role": "user", "content": prompt}], CHAR)


@pytest.fixture(scope="module")
def smol():
    from tests.llm.builders import smol_tokenizer

    return smol_tokenizer(Path(settings.VAR_DIR) / "smollm2-tokenizer")


@pytest.mark.parametrize(("tag", "unit", "normal", "prompt"), SCRIPTS)
def test_text_wrappers_with_the_real_tokenizer(smol, tag, unit, normal, prompt):
    assert degenerate(unit * 12, smol)
    assert not degenerate(normal, smol)
    assert echo(prompt, prompt, smol)
    assert not echo(normal, prompt, smol)
