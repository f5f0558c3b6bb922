"""The bench's truth-reading figures for the segmentation (benchmarks/persona_oracle.py), by hand."""

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from benchmarks.persona_oracle import (kmeans_from_persona_centres, majority_persona, majority_persona_ari,
                                       nearest_persona_centre, neighbour_purity, persona_centre_figures,
                                       persona_centres)


def test_each_segment_takes_its_most_common_persona_and_a_tie_the_first_in_sorted_order():
    labels = ["a", "a", "a", "b", "b", "c", "c"]
    personas = ["x", "x", "y", "y", "y", "y", "x"]  # a: 2 x 1 y; b: 2 y; c: 1 x 1 y (tie: x)
    assert majority_persona(labels, personas).tolist() == ["x", "x", "x", "y", "y", "x", "x"]
    assert majority_persona_ari(labels, personas) == pytest.approx(
        adjusted_rand_score(personas, ["x", "x", "x", "y", "y", "x", "x"]))


def test_segments_that_split_personas_merge_back_to_them_and_mixed_ones_cannot():
    personas = np.array(["x", "x", "y", "y", "z", "z"])
    assert majority_persona_ari([0, 1, 2, 3, 4, 5], personas) == 1.0  # singletons: any grouping is reachable
    assert majority_persona_ari([0, 0, 1, 1, 2, 2], personas) == 1.0
    # one segment holds an x and a y: whichever it is called, one of them is wrong
    assert majority_persona_ari([0, 1, 1, 2, 3, 3], personas) < 1.0


def test_neighbour_purity_by_hand_on_a_line():
    X = np.array([[0.0], [1.0], [10.0], [11.0], [13.0]])
    personas = np.array(["p", "p", "q", "q", "p"])
    # nearest other: 0->1 (p p), 1->0 (p p), 10->11 (q q), 11->10 (q q), 13->11 (p q): 4 of 5
    assert neighbour_purity(X, personas, n_neighbors=1) == pytest.approx(0.8)
    # two nearest: 0->1,10 (1/2), 1->0,10 (1/2), 10->11,13 (1/2), 11->10,13 (1/2), 13->11,10 (0/2)
    assert neighbour_purity(X, personas, n_neighbors=2) == pytest.approx(0.4)


def test_a_duplicate_profile_is_a_neighbour_and_the_row_itself_never_is():
    X = np.array([[0.0], [0.0], [4.0], [5.0]])
    personas = np.array(["p", "q", "q", "q"])
    # nearest other: row 0 -> its duplicate row 1 (p q), row 1 -> row 0 (q p), 4 -> 5 (q q), 5 -> 4 (q q)
    assert neighbour_purity(X, personas, n_neighbors=1) == pytest.approx(0.5)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="one segment label per persona"):
        majority_persona([0, 1], ["x"])
    with pytest.raises(ValueError, match="no labelled rows"):
        majority_persona_ari([], [])
    with pytest.raises(ValueError, match="n_neighbors must be between 1 and 1"):
        neighbour_purity([[0.0], [1.0]], ["p", "q"], n_neighbors=2)


def test_missing_labels_are_refused():
    with pytest.raises(ValueError, match="missing segment labels or personas"):
        majority_persona(["a", None], ["x", "y"])
    with pytest.raises(ValueError, match="missing segment labels or personas"):
        majority_persona(["a", "b"], np.array(["x", np.nan], dtype=object))


# p: 0, 2, 4 and q: 6, 8.5, 20 on a line. Centres: p 2, q 11.5.
LINE = np.array([[0.0], [2.0], [4.0], [6.0], [8.5], [20.0]])
LINE_PERSONAS = np.array(["p", "p", "p", "q", "q", "q"])


def test_persona_centres_are_the_means_in_sorted_order():
    names, centres = persona_centres(LINE[::-1], LINE_PERSONAS[::-1])
    assert names.tolist() == ["p", "q"] and centres[:, 0].tolist() == [2.0, 11.5]


def test_nearest_centre_and_where_k_means_takes_the_centres_by_hand():
    # nearest: 6 is 4 from p and 5.5 from q (p); 8.5 is 6.5 from p and 3 from q (q)
    assert nearest_persona_centre(LINE, LINE_PERSONAS).tolist() == ["p", "p", "p", "p", "q", "q"]
    # k-means from there: centres 3 (0, 2, 4, 6) and 14.25 (8.5, 20); 8.5 is now 5.5 from 3 and 5.75 from
    # 14.25, so it moves; centres 4.1 and 20, and nothing moves any more
    assert kmeans_from_persona_centres(LINE, LINE_PERSONAS).tolist() == ["p", "p", "p", "p", "p", "q"]
    figures = persona_centre_figures(LINE, LINE_PERSONAS)
    assert figures["ari_nearest_persona_centre"] == pytest.approx(
        adjusted_rand_score(LINE_PERSONAS, ["p", "p", "p", "p", "q", "q"]))
    assert figures["ari_kmeans_from_persona_centres"] == pytest.approx(
        adjusted_rand_score(LINE_PERSONAS, ["p", "p", "p", "p", "p", "q"]))
    assert figures["ari_kmeans_from_persona_centres"] < figures["ari_nearest_persona_centre"] < 1.0


def test_centre_figures_refuse_bad_input():
    with pytest.raises(ValueError, match="one row per persona"):
        persona_centres([[0.0], [1.0]], ["p"])
    with pytest.raises(ValueError, match="missing personas"):
        nearest_persona_centre([[0.0], [1.0]], np.array(["p", None], dtype=object))
    with pytest.raises(ValueError, match="no labelled rows"):
        persona_centre_figures(np.empty((0, 2)), [])
