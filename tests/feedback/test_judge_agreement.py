"""A judge against the human consensus (webapp/feedback/quality/judges.py), with figures worked out by
hand: strict consensus pairs only, the judge's ties as abstentions, a Wilson interval, and
Krippendorff's alpha with the judge as one more rater."""

import pytest

from tests.conftest import make_annotator
from tests.feedback.factories import campaign_with_tasks
from webapp.feedback.extensions import Judge, judges
from webapp.feedback.models import Annotation
from webapp.feedback.quality.agreement import consensus_relations, judge_pair_agreement, wilson_interval
from webapp.feedback.quality.judges import judge_agreement
from webapp.feedback.services.judging import judge_label

# Three people on three responses:  H1: 0 > 1 > 2   H2: 0 > 2 > 1   H3: 1 > 0 > 2
# (0,1): +1 +1 -1 -> 0 above 1;  (0,2): +1 +1 +1 -> 0 above 2;  (1,2): +1 -1 +1 -> 1 above 2.
THREE_PEOPLE = [[[0], [1], [2]], [[0], [2], [1]], [[1], [0], [2]]]


def test_the_consensus_is_the_side_more_people_prefer():
    assert consensus_relations(rankings=THREE_PEOPLE) == {(0, 1): 1, (0, 2): 1, (1, 2): 1}


def test_pairs_that_people_tie_or_split_evenly_have_no_consensus():
    assert consensus_relations(rankings=[[[0], [1]], [[1], [0]]]) == {}  # split evenly
    assert consensus_relations(rankings=[[[0, 1]]]) == {}  # tied
    # A tie counts for neither side: one for 0, one tie -> 0 above 1.
    assert consensus_relations(rankings=[[[0], [1]], [[0, 1]]]) == {(0, 1): 1}
    # 2 > 1 > 0 reverses every pair.
    assert consensus_relations(rankings=[[[2], [1], [0]]]) == {(0, 1): -1, (0, 2): -1, (1, 2): -1}


def test_the_judge_is_compared_on_its_strict_pairs_and_abstains_on_its_ties():
    # Judge 0 > (1 = 2): agrees on (0,1) and (0,2), ties (1,2): an abstention, not a miss.
    assert judge_pair_agreement(judge=[[0], [1, 2]], humans=THREE_PEOPLE) == (2, 2, 1)
    # Judge 2 > 1 > 0 against the same consensus: three misses.
    assert judge_pair_agreement(judge=[[2], [1], [0]], humans=THREE_PEOPLE) == (0, 3, 0)
    # No consensus, nothing compared.
    assert judge_pair_agreement(judge=[[0], [1]], humans=[[[0], [1]], [[1], [0]]]) == (0, 0, 0)


def test_the_wilson_interval_of_two_out_of_five():
    # p = 0.4, z^2 = 3.8416: centre 0.4 + 3.8416/10 = 0.78416, margin 1.96 * sqrt(0.048 + 0.038416) = 0.576174,
    # scale 1 + 3.8416/5 = 1.76832 -> (0.207986 / 1.76832, 1.360334 / 1.76832) = (0.11762, 0.76928).
    low, high = wilson_interval(successes=2, n=5)
    assert (low, high) == (pytest.approx(0.11762, abs=1e-5), pytest.approx(0.76928, abs=1e-5))
    assert wilson_interval(successes=0, n=0) is None
    assert wilson_interval(successes=3, n=3)[1] == 1.0


@pytest.fixture
def first_judge(monkeypatch):
    """`first@1` ranks the responses in their stored order; `reverse@1` the other way round."""
    monkeypatch.setitem(
        judges._items, "first", Judge(name="first", version="1", rank=lambda p, t, lang: [[i] for i in range(len(t))])
    )
    monkeypatch.setitem(
        judges._items,
        "reverse",
        Judge(name="reverse", version="1", rank=lambda p, t, lang: [[i] for i in reversed(range(len(t)))]),
    )


def rank(user, task, ranking):
    Annotation.objects.create(task=task, annotator=user, ranking=ranking)


@pytest.mark.django_db
def test_judge_agreement_per_judge_and_language_worked_by_hand(first_judge):
    people = [make_annotator(f"h{i}", ["en", "de"]) for i in range(3)]
    _, en = campaign_with_tasks(n_tasks=4, language="en", n_responses=3, name="en")
    _, de = campaign_with_tasks(n_tasks=2, language="de", n_responses=2, name="de")
    # en, judge `first` (0 > 1 > 2 everywhere):
    #   task 0: the three people above -> (0,1) (0,2) (1,2) all agree: 3 of 3
    #   task 1: one person 2 > 1 > 0 -> 0 of 3
    #   task 2: one person ties all -> no consensus pair (a task with people, but no evidence)
    #   task 3: no person -> labelled only
    for person, ranking in zip(people, THREE_PEOPLE, strict=True):
        rank(person, en[0], ranking)
    rank(people[0], en[1], [[2], [1], [0]])
    rank(people[0], en[2], [[0, 1, 2]])
    # de, judge `first` (0 > 1): task 0 agrees with its person, task 1 does not.
    rank(people[0], de[0], [[0], [1]])
    rank(people[1], de[1], [[1], [0]])
    for task in [*en, *de]:
        judge_label(task_id=task.pk, judge="first")
    judge_label(task_id=de[0].pk, judge="reverse")

    rows = {(r.judge, r.language): r for r in judge_agreement()}
    assert set(rows) == {("first@1", "en"), ("first@1", "de"), ("reverse@1", "de")}
    en_row = rows[("first@1", "en")]
    assert (en_row.labelled, en_row.tasks, en_row.n_tasks, en_row.n_pairs, en_row.agreed) == (4, 3, 2, 6, 3)
    assert en_row.agreement == 0.5 and en_row.abstentions == 0
    # Wilson 3/6: centre 0.5 + 3.8416/12 = 0.820133, margin 1.96 * sqrt(0.25/6 + 3.8416/144) = 0.512398,
    # scale 1.640267 -> (0.18761, 0.81239)
    assert (en_row.ci_low, en_row.ci_high) == (pytest.approx(0.18761, abs=1e-5), pytest.approx(0.81239, abs=1e-5))

    de_row = rows[("first@1", "de")]
    assert (de_row.tasks, de_row.n_tasks, de_row.n_pairs, de_row.agreed, de_row.agreement) == (2, 2, 2, 1, 0.5)
    # Alpha, two values (ranks 1 and 2), so every metric agrees. Units (person, judge):
    #   de0 pos0 (1,1), pos1 (2,2); de1 pos0 (2,1), pos1 (1,2).
    #   o11 = 2, o22 = 2, o12 = o21 = 2;  n1 = n2 = 4, n = 8.
    #   alpha = 1 - (n-1) * (o12 + o21) / (n1 n2 + n2 n1) = 1 - 7 * 4 / 32 = 1/8.
    assert de_row.alpha == pytest.approx(1 / 8)
    reverse = rows[("reverse@1", "de")]
    assert (reverse.n_pairs, reverse.agreed, reverse.agreement, reverse.alpha) == (1, 0, 0.0, pytest.approx(-0.5))

    # Filters: one judge, one language.
    assert [(r.judge, r.language) for r in judge_agreement(judges=["reverse@1"])] == [("reverse@1", "de")]
    assert [(r.judge, r.language) for r in judge_agreement(language="en")] == [("first@1", "en")]


@pytest.mark.django_db
def test_a_judge_is_never_one_of_the_humans_it_is_compared_with(first_judge):
    _, [task] = campaign_with_tasks(n_tasks=1, language="en", n_responses=2)
    judge_label(task_id=task.pk, judge="first")
    judge_label(task_id=task.pk, judge="reverse")
    rows = judge_agreement()
    assert [(r.judge, r.tasks, r.n_pairs, r.agreement, r.alpha) for r in rows] == [
        ("first@1", 0, 0, None, None),
        ("reverse@1", 0, 0, None, None),
    ]
