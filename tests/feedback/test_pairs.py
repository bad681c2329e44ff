"""Pair derivation, with cases worked out by hand (docs/formats.md, "Pair derivation")."""

import pytest

from webapp.errors import ApplicationError
from webapp.feedback.formats.pairs import PairPolicy, Vote, aggregate, select_pairs


def pairs(votes, n=3, **policy):
    agg = aggregate(n, votes, include_flagged=policy.get("include_flagged", False))
    return [(i, j, round(a, 4)) for i, j, a in select_pairs(agg, PairPolicy(**policy))]


# Three annotators, one tie.  A1: 0 > 1 > 2   A2: 0 > (1 = 2)   A3: 1 > 0 > 2
#   agreement(0>1) = (1 + 1 + 0) / 3 = 0.6667      agreement(0>2) = 3/3 = 1
#   agreement(1>2) = (1 + 0.5 + 1) / 3 = 0.8333    agreement(2>1) = 0.5/3 = 0.1667
#   Copeland: 0 -> +2, 1 -> 0, 2 -> -2; best 0, worst 2.
THREE_WITH_TIE = [Vote([[0], [1], [2]]), Vote([[0], [1, 2]]), Vote([[1], [0], [2]])]


def test_three_annotators_with_a_tie_best_vs_rest():
    assert pairs(THREE_WITH_TIE) == [(0, 1, 0.6667), (0, 2, 1.0)]


def test_three_annotators_with_a_tie_all_pairs():
    assert pairs(THREE_WITH_TIE, expansion="all") == [(0, 1, 0.6667), (0, 2, 1.0), (1, 2, 0.8333)]


def test_three_annotators_with_a_tie_best_vs_worst():
    assert pairs(THREE_WITH_TIE, expansion="best_vs_worst") == [(0, 2, 1.0)]


def test_a_two_one_split_passes_a_majority_but_not_a_higher_threshold():
    votes = [Vote([[0], [1]]), Vote([[0], [1]]), Vote([[1], [0]])]
    assert pairs(votes, n=2) == [(0, 1, 0.6667)]
    assert pairs(votes, n=2, min_agreement=0.7) == []


def test_min_agreement_drops_weak_pairs_but_keeps_strong_ones():
    assert pairs(THREE_WITH_TIE, min_agreement=0.7) == [(0, 2, 1.0)]
    assert pairs(THREE_WITH_TIE, min_agreement=0.7, expansion="all") == [(0, 2, 1.0), (1, 2, 0.8333)]


def test_an_even_split_emits_nothing():
    assert pairs([Vote([[0], [1]]), Vote([[1], [0]])], n=2, expansion="all") == []


def test_a_full_tie_emits_nothing():
    assert pairs([Vote([[0, 1]])], n=2, expansion="all") == []


def test_min_annotators_holds_back_tasks_with_too_few_rankings():
    assert pairs([Vote([[0], [1]])], n=2, min_annotators=2) == []
    assert pairs([Vote([[0], [1]])] * 2, n=2, min_annotators=2) == [(0, 1, 1.0)]


def test_one_unsafe_flag_removes_the_task():
    votes = THREE_WITH_TIE[:2] + [Vote([[1], [0], [2]], flags=("unsafe",))]
    assert pairs(votes) == []
    assert pairs(votes, include_flagged=True) == [(0, 1, 0.6667), (0, 2, 1.0)]


def test_all_bad_from_a_majority_removes_the_task():
    votes = [Vote([[0], [1], [2]], flags=("all_bad",)), Vote([[0], [1, 2]], flags=("all_bad",)), THREE_WITH_TIE[2]]
    assert pairs(votes) == []


def test_a_minority_wrong_language_flag_only_removes_that_ranking():
    # A3 (the dissenter) is flagged: A1 and A2 remain, agreement(0>1) = 2/2.
    votes = THREE_WITH_TIE[:2] + [Vote([[1], [0], [2]], flags=("wrong_language",))]
    assert pairs(votes) == [(0, 1, 1.0), (0, 2, 1.0)]


def test_trust_weights_replace_counts():
    # Weight 3 for the first annotator, 1 for the second: agreement(0>1) = 3 / 4.
    votes = [Vote([[0], [1]], weight=3.0), Vote([[1], [0]], weight=1.0)]
    assert pairs(votes, n=2) == [(0, 1, 0.75)]


def test_copeland_ties_are_broken_by_mean_rank():
    # A1: 0 > (1 = 2)   A2: 1 > 0 > 2
    #   agreement(0>1) = 0.5, agreement(0>2) = 1, agreement(1>2) = 0.75 -> Copeland 0: +1, 1: +1, 2: -2
    #   mean ranks: 0 -> (1 + 2) / 2 = 1.5; 1 -> (2.5 + 1) / 2 = 1.75, so 0 is best.
    agg = aggregate(3, [Vote([[0], [1, 2]]), Vote([[1], [0], [2]])])
    assert [agg.copeland(i) for i in range(3)] == [1, 1, -2]
    assert [agg.mean_rank(i) for i in range(3)] == [1.5, 1.75, 2.75]
    assert agg.best() == 0 and agg.worst() == 2


def test_a_perfect_cycle_falls_back_to_the_stored_order():
    agg = aggregate(3, [Vote([[0], [1], [2]]), Vote([[1], [2], [0]]), Vote([[2], [0], [1]])])
    assert [agg.copeland(i) for i in range(3)] == [0, 0, 0]
    assert agg.best() == 0 and agg.worst() == 2


@pytest.mark.parametrize(
    "bad", [{"min_agreement": 0.4}, {"min_agreement": 1.0}, {"min_annotators": 0}, {"expansion": "some"}]
)
def test_a_bad_policy_is_refused_with_a_message(bad):
    with pytest.raises(ApplicationError):
        PairPolicy(**bad)
