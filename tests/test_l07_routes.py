"""Lesson 07's routes past the frontier: what a route may change, and how it is judged."""

import pytest

from kdcourse.lessons import l07


def test_a_route_changes_only_what_it_names():
    cnn, training, augment = l07._recipe({"embeddings": "trained", "copies": 10, "filters": 200})
    assert cnn == {**l07.CNN, "filters": 200} and augment == {**l07.AUGMENT, "copies": 10}
    assert training == {**l07.CNN_TRAINING, "embeddings": "trained"}
    assert l07._recipe({}) == (l07.CNN, l07.CNN_TRAINING, l07.AUGMENT)  # the taught run's own cache keys


@pytest.mark.parametrize(
    "route, message",
    [
        ({"dropout": 0.2}, r"a route may change filters, embeddings or copies, got \['dropout'\]"),
        ({"embeddings": "fine"}, "a route's embeddings must be 'frozen' or 'trained', got 'fine'"),
    ],
)
def test_a_bad_route_names_the_value(route, message):
    with pytest.raises(ValueError, match=message):
        l07._recipe(route)


def test_each_route_is_judged_against_the_one_above_and_the_line():
    runs = {
        name: [{"accuracy": a} for a in accs]
        for name, accs in {
            "taught (transfer set)": [0.79, 0.80, 0.78],
            "+ embeddings trained": [0.80, 0.81, 0.79],
        }.items()
    }
    tests = l07.route_comparisons(runs, teacher_accuracy=0.83)
    assert list(tests) == [
        "+ embeddings trained (vs taught (transfer set))",
        "taught (transfer set) vs 97% of the teacher",
        "+ embeddings trained vs 97% of the teacher",
    ]
    assert tests["+ embeddings trained (vs taught (transfer set))"].difference == pytest.approx(1.0)
    assert tests["+ embeddings trained vs 97% of the teacher"].difference == pytest.approx(100 * (0.80 - 0.97 * 0.83))
    assert l07.best_route(runs) == "+ embeddings trained"
