"""Style measures of one answer: Markdown headers, list items and bold spans counted by hand (code blocks
left out), length in the given ids, language and repetition through the shared measures."""

from ml.evaluation.style import answer_style, markdown_counts, whitespace_ids

ANSWER = """# Paris

## Why it matters
Paris is the **capital** and the __largest__ city; **bold** twice on one line.

- the Louvre
* the Seine
1. first
2) second
-not a list item
#not a header

```
# a comment in code, not a header
- not a list either, **nor bold**
```
"""


def test_markdown_elements_are_counted_outside_code_blocks():
    assert markdown_counts(ANSWER) == (2, 4, 3)
    assert markdown_counts("Plain text, with * stars * and ** spaced ** markers.") == (0, 0, 0)


def test_whitespace_ids_repeat_for_a_repeated_word():
    assert whitespace_ids("a b a  c\nb") == [0, 1, 0, 2, 1]


def test_answer_style_combines_the_measures():
    loop = "the sky is blue " * 10
    style = answer_style(loop, "en", whitespace_ids(loop))
    assert (style.tokens, style.headers, style.lists, style.bold) == (40, 0, 0, 0)
    assert style.degenerate and style.in_language
    german = "Der Himmel ist blau, weil das Sonnenlicht in der Luft gestreut wird."
    assert answer_style(german, "en", whitespace_ids(german)).in_language is False
    assert answer_style(german, "tpi", whitespace_ids(german)).in_language is None  # not measurable


def test_an_answer_cut_off_inside_a_repeat_is_degenerate_only_when_the_limit_is_known():
    ids = list(range(100, 140)) + [1, 2, 3, 4] * 3  # the repeat covers 12 of 52 positions: under 30%
    assert not answer_style("text", "en", ids).degenerate
    assert not answer_style("text", "en", ids, max_new_tokens=256).degenerate  # stopped well before the limit
    assert answer_style("text", "en", ids, max_new_tokens=52).degenerate  # stopped at the limit, looping
