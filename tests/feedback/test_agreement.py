"""Agreement and annotator-quality statistics, with cases worked out by hand."""

import krippendorff
import pytest

from webapp.feedback.quality.agreement import (
    annotator_agreement,
    cross_lingual_consistency,
    gold_accuracy,
    kendall_tau,
    krippendorff_alpha_ordinal,
    pairwise_agreement_rate,
    position_bias,
    rank_positions,
    trust_scores,
)

# Task 1, three annotators, one tie.  A: 0 > 1 > 2   B: 0 > (1 = 2)   C: 1 > 0 > 2
# Task 2, two responses.               A: 0 > 1       B: 1 > 0
THREE_WITH_TIE = {"A": [[0], [1], [2]], "B": [[0], [1, 2]], "C": [[1], [0], [2]]}
TWO_DISAGREE = {"A": [[0], [1]], "B": [[1], [0]]}


def test_rank_positions_gives_tied_responses_their_mean_position():
    assert rank_positions(ranking=[[0], [2, 1]], n=3) == [1.0, 2.5, 2.5]
    assert rank_positions(ranking=[[3], [0, 1, 2]], n=4) == [3.0, 3.0, 3.0, 1.0]
    assert rank_positions(ranking=[[1], [0]], n=2) == [2.0, 1.0]


@pytest.mark.parametrize("ranking", [[[0], [2]], [[0], [1]], [[0], [0, 1]], [[0, 1, 2, 3]]])
def test_rank_positions_refuses_a_ranking_that_is_not_of_n_responses(ranking):
    with pytest.raises(ValueError):
        rank_positions(ranking=ranking, n=3)


def test_alpha_matches_a_coincidence_matrix_worked_by_hand():
    # A: 0 > 1 > 2 -> ranks (1, 2, 3);  B: 0 > 2 > 1 -> ranks (1, 3, 2).  Units: (1,1) (2,3) (3,2).
    # Coincidences (each unit has 2 values, so each ordered pair of them counts 1/(2-1) = 1):
    #   o11 = 2, o23 = o32 = 2;  n1 = n2 = n3 = 2, n = 6.
    # Ordinal distances d(c,k) = (n_c + ... + n_k - (n_c + n_k)/2)^2: d12 = d23 = (4-2)^2 = 4, d13 = (6-2)^2 = 16.
    # alpha = 1 - (n-1) * sum o_ck d_ck / sum n_c n_k d_ck
    #       = 1 - 5 * (2*4 + 2*4) / (2 * (4*4 + 4*16 + 4*4)) = 1 - 80/192 = 7/12.
    alpha = krippendorff_alpha_ordinal(tasks=[{"A": [[0], [1], [2]], "B": [[0], [2], [1]]}])
    assert alpha == pytest.approx(7 / 12)


def test_alpha_on_two_valued_data_equals_the_nominal_and_interval_alpha():
    # Two responses, no ties: every value is 1 or 2, so all metrics have one distance and agree.
    tasks = [
        {"A": [[0], [1]], "B": [[0], [1]], "C": [[1], [0]]},
        {"A": [[1], [0]], "B": [[1], [0]]},
        {"B": [[0], [1]], "C": [[0], [1]]},
    ]
    data = [
        [1, 2, 2, 1, float("nan"), float("nan")],
        [1, 2, 2, 1, 1, 2],
        [2, 1, float("nan"), float("nan"), 1, 2],
    ]
    alpha = krippendorff_alpha_ordinal(tasks=tasks)
    assert alpha == pytest.approx(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))
    assert alpha == pytest.approx(krippendorff.alpha(reliability_data=data, level_of_measurement="interval"))


def test_alpha_is_one_when_annotators_agree_perfectly():
    tasks = [
        {"A": [[0], [2, 1]], "B": [[0], [1, 2]]},
        {"A": [[1], [0]], "B": [[1], [0]], "C": [[1], [0]]},
    ]
    assert krippendorff_alpha_ordinal(tasks=tasks) == pytest.approx(1.0)


def test_alpha_ignores_tasks_ranked_by_one_annotator():
    hand_worked = {"A": [[0], [1], [2]], "B": [[0], [2], [1]]}
    assert krippendorff_alpha_ordinal(tasks=[hand_worked, {"C": [[2], [1], [0]]}]) == pytest.approx(7 / 12)


@pytest.mark.parametrize(
    "tasks",
    [
        [],
        [{"A": [[0], [1]]}, {"B": [[1], [0]]}],  # never two annotators on a unit
        [{"A": [[0, 1]], "B": [[1, 0]]}],  # every value 1.5: no variation
    ],
)
def test_alpha_is_none_without_pairable_varying_values(tasks):
    assert krippendorff_alpha_ordinal(tasks=tasks) is None


def test_pairwise_agreement_rate_counts_same_relations_including_ties():
    # Relations on (0,1) (0,2) (1,2):  A: > > >   B: > > =   C: < > >
    #   A-B agree on 2 of 3, A-C on 2 of 3, B-C on 1 of 3; task 2: A-B disagree on 1 of 1.
    #   (2 + 2 + 1 + 0) / (3 + 3 + 3 + 1) = 5/10.
    assert pairwise_agreement_rate(tasks=[THREE_WITH_TIE]) == pytest.approx(5 / 9)
    assert pairwise_agreement_rate(tasks=[THREE_WITH_TIE, TWO_DISAGREE]) == pytest.approx(0.5)


def test_pairwise_agreement_rate_is_none_without_two_annotators_on_a_task():
    assert pairwise_agreement_rate(tasks=[{"A": [[0], [1]]}, {"B": [[0], [1]]}]) is None
    assert pairwise_agreement_rate(tasks=[]) is None


def test_annotator_agreement_restricts_to_comparisons_involving_the_annotator():
    # A: A-B (2 of 3, 0 of 1) + A-C (2 of 3) = 4/7;  B: A-B (2 + 0) + B-C 1 = 3/7;  C: A-C 2 + B-C 1 = 3/6.
    assert annotator_agreement(tasks=[THREE_WITH_TIE, TWO_DISAGREE, {"D": [[0], [1]]}]) == pytest.approx(
        {"A": 4 / 7, "B": 3 / 7, "C": 0.5}
    )


def test_gold_accuracy_credits_the_gold_response_alone_on_top():
    annotations = [
        ("x", [[0], [1], [2]], 0),  # alone on top: 1
        ("x", [[1, 0], [2]], 0),  # two-way tie on top: 1/2
        ("x", [[1], [0]], 0),  # second: 0
        ("x", [[2], [0], [1]], 2),  # 1
        ("y", [[0, 1, 2]], 2),  # three-way tie: 1/3
    ]
    assert gold_accuracy(annotations=annotations) == pytest.approx({"x": 2.5 / 4, "y": 1 / 3})


def test_trust_blends_agreement_with_gold_and_penalises_skipping_and_speed():
    trust = trust_scores(
        agreement={"a": 0.8, "b": 0.9},
        gold={"a": 0.6},
        skip_rate={"a": 0.75, "b": 0.5, "c": 0.2},
        median_seconds={"a": 2.5, "b": 5.0},
    )
    # a: quality (0.8 + 0.6) / 2 = 0.7; skip 1 - 0.25 = 0.75; speed 0.5 + 0.5 * 2.5/5 = 0.75 -> 0.39375
    # b: no gold, skip at the limit and median at min_seconds carry no penalty -> 0.9
    # c: unknown agreement -> 0.5
    assert trust == pytest.approx({"a": 0.39375, "b": 0.9, "c": 0.5})


def test_trust_rises_with_agreement():
    levels = [i / 10 for i in range(11)]
    trust = [
        trust_scores(agreement={"a": level}, gold={"a": 0.5}, skip_rate={"a": 0.6}, median_seconds={"a": 4.0})["a"]
        for level in levels
    ]
    assert trust == sorted(trust)
    assert trust[-1] > trust[5] > trust[0]


@pytest.mark.parametrize(
    "agreement, gold, skip_rate, median, expected",
    [(0.0, 0.0, 1.0, 0.0, 0.2), (1.0, 1.0, 0.0, 60.0, 1.0), (1.0, None, 1.0, 0.0, 0.25), (0.1, None, None, None, 0.2)],
)
def test_trust_stays_between_its_bounds(agreement, gold, skip_rate, median, expected):
    trust = trust_scores(
        agreement={"a": agreement},
        gold={} if gold is None else {"a": gold},
        skip_rate={} if skip_rate is None else {"a": skip_rate},
        median_seconds={} if median is None else {"a": median},
    )
    assert trust["a"] == pytest.approx(expected)


def test_kendall_tau_of_identical_reversed_and_one_swap():
    assert kendall_tau(order_a=["w", "x", "y", "z"], order_b=["w", "x", "y", "z"]) == pytest.approx(1.0)
    assert kendall_tau(order_a=["w", "x", "y", "z"], order_b=["z", "y", "x", "w"]) == pytest.approx(-1.0)
    # One swap of 4: 5 concordant, 1 discordant pair of 6 -> 4/6.
    assert kendall_tau(order_a=["w", "x", "y", "z"], order_b=["w", "y", "x", "z"]) == pytest.approx(2 / 3)


def test_kendall_tau_ignores_items_missing_from_one_ordering():
    assert kendall_tau(order_a=["w", "x", "q", "y"], order_b=["y", "p", "x", "w"]) == pytest.approx(-1.0)
    assert kendall_tau(order_a=["w", "x"], order_b=["x", "v"]) is None


def test_kendall_tau_refuses_an_ordering_with_a_repeated_item():
    with pytest.raises(ValueError):
        kendall_tau(order_a=["w", "x", "w"], order_b=["w", "x"])


GROUP = {
    "de": {"m1": 3.0, "m2": 2.0, "m3": 1.0},
    "ar": {"m1": 2.5, "m2": 1.0, "m3": 0.0, "m4": 9.0},
    "ja": {"m1": 1.0, "m2": 2.0, "m3": 0.0},
    "fr": {"m4": 1.0},  # one variant in common with ar, none with the others: no row
}


def test_cross_lingual_consistency_flags_the_language_that_flips():
    rows = cross_lingual_consistency(groups={"g1": GROUP})
    # ja ranks m2 above m1: 2 concordant, 1 discordant of 3 pairs -> tau 1/3 against de and ar.
    assert [(r["language_a"], r["language_b"]) for r in rows] == [("ar", "ja"), ("de", "ja"), ("ar", "de")]
    assert [r["tau"] for r in rows] == pytest.approx([1 / 3, 1 / 3, 1.0])
    assert [r["flipped"] for r in rows] == [[("m1", "m2")], [("m1", "m2")], []]
    assert [r["inconsistent"] for r in rows] == [True, True, False]
    assert rows[2] == {
        "group": "g1",
        "language_a": "ar",
        "language_b": "de",
        "tau": pytest.approx(1.0),
        "variants": ["m1", "m2", "m3"],
        "flipped": [],
        "inconsistent": False,
    }


def test_cross_lingual_consistency_sorts_across_groups_and_counts_ties():
    # g2: pairs (a,b): de >, ja =; (a,c): >, >; (b,c): =, >  -> tau-b = 1 / sqrt(2 * 2) = 0.5, no flip.
    groups = {"g1": GROUP, "g2": {"de": {"a": 2.0, "b": 1.0, "c": 1.0}, "ja": {"a": 2.0, "b": 2.0, "c": 1.0}}}
    rows = cross_lingual_consistency(groups=groups, threshold=0.6)
    assert [(r["group"], r["language_b"]) for r in rows] == [("g1", "ja"), ("g1", "ja"), ("g2", "ja"), ("g1", "de")]
    tied = rows[2]
    assert tied["tau"] == pytest.approx(0.5)
    assert tied["flipped"] == [] and tied["inconsistent"] is True


def test_cross_lingual_tau_with_ties_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    de, ja = {"a": 3.0, "b": 1.0, "c": 1.0, "d": 0.0}, {"a": 2.0, "b": 2.0, "c": 1.0, "d": 1.0}
    (row,) = cross_lingual_consistency(groups={"g": {"de": de, "ja": ja}})
    expected = stats.kendalltau(list(de.values()), list(ja.values())).statistic
    assert row["tau"] == pytest.approx(expected)


def test_position_bias_compares_first_shown_wins_with_chance():
    items = [
        ("de", [2, 0, 1], [[2], [0], [1]]),  # first shown (2) alone on top: 1
        ("de", [0, 1, 2], [[1, 0], [2]]),  # first shown (0) in a top tie of 2: 1/2
        ("de", [1, 0], [[0], [1]]),  # first shown (1) second: 0
        ("ar", [], [[0], [1]]),  # no display order recorded: left out
        ("ar", [1, 0], [[1], [0]]),  # 1
    ]
    assert position_bias(items=items) == {
        "de": {
            "n": 3,
            "first_top_share": pytest.approx(0.5),
            "expected_share": pytest.approx((1 / 3 + 1 / 3 + 1 / 2) / 3),
        },
        "ar": {"n": 1, "first_top_share": pytest.approx(1.0), "expected_share": pytest.approx(0.5)},
    }
