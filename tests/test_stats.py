"""kdcourse.stats against answers worked out independently of SciPy (closed forms, counted tables)."""

import math

import pytest

from kdcourse import stats


def test_paired_t_matches_the_closed_form_for_two_degrees_of_freedom():
    # With 3 seeds (2 degrees of freedom) the two-sided p of t is exactly 1 - t / sqrt(2 + t^2).
    hard, taught = [0.7767, 0.7738, 0.7746], [0.7952, 0.8052, 0.7871]
    result = stats.paired_seeds(hard, taught, names=("hard", "taught"))
    diffs = [100 * (b - a) for a, b in zip(hard, taught)]
    mean = sum(diffs) / 3
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / 2)
    t = mean / (sd / math.sqrt(3))
    assert result.difference == pytest.approx(mean)
    assert result.p_value == pytest.approx(1 - t / math.sqrt(2 + t * t), rel=1e-9)
    half = 4.302652729911275 * sd / math.sqrt(3)  # t quantile 0.975 at 2 df (tables: 4.303)
    assert (result.low, result.high) == pytest.approx((mean - half, mean + half), rel=1e-9)
    assert result.p_value > 0.05 and result.verdict == "not decided at this budget"  # the old "helped"


def test_paired_t_decides_a_clear_difference_and_names_the_winner():
    a, b = [0.70, 0.71, 0.72, 0.70, 0.71], [0.75, 0.76, 0.76, 0.74, 0.76]
    assert stats.paired_seeds(a, b, names=("hard", "taught")).verdict == "taught ahead of hard"
    assert stats.paired_seeds(b, a, names=("taught", "hard")).verdict == "taught ahead of hard"
    text = str(stats.paired_seeds(a, b, names=("hard", "taught")))
    assert "paired t-test over 5 seeds" in text and "95% CI +3.92 to +5.28" in text and "p < 0.001" in text


def test_one_seed_is_not_a_test_and_no_spread_is_handled():
    one = stats.paired_seeds([0.7], [0.8])
    assert not one.decided and "one seed" in one.test and math.isnan(one.p_value)
    same = stats.paired_seeds([0.7, 0.7], [0.7, 0.7])
    assert same.p_value == 1.0 and not same.decided
    shift = stats.paired_seeds([0.7, 0.6], [0.8, 0.7])
    assert shift.decided and shift.difference == pytest.approx(10)


def test_mcnemar_exact_p_is_the_binomial_tail_counted_by_hand():
    # 10 snippets only B gets right, 2 only A: p = 2 * P(X <= 2), X ~ Binomial(12, 1/2) = 2 * 79 / 4096.
    a = [True] * 50 + [False] * 10 + [True] * 2 + [False] * 8
    b = [True] * 50 + [True] * 10 + [False] * 2 + [False] * 8
    result = stats.mcnemar(a, b, names=("A", "B"))
    assert result.p_value == pytest.approx(2 * (1 + 12 + 66) / 4096)
    assert result.difference == pytest.approx(100 * 8 / 70)
    assert result.low < result.difference < result.high
    assert result.verdict == "B ahead of A"
    assert stats.mcnemar([True, False], [True, False]).verdict == "not decided at this budget"


def test_one_snippet_of_difference_is_a_tie():
    a = [True] * 2000 + [False] * 485
    b = [True] * 2001 + [False] * 484
    assert not stats.mcnemar(a, b).decided


def test_bad_inputs_name_the_problem():
    with pytest.raises(ValueError, match="one value per seed"):
        stats.paired_seeds([0.1, 0.2], [0.3])
    with pytest.raises(TypeError, match="list of numbers"):
        stats.paired_seeds(["a"], [0.3])
    with pytest.raises(ValueError, match="finite"):
        stats.paired_seeds([float("nan")], [0.3])
    with pytest.raises(ValueError, match="same snippets"):
        stats.mcnemar([True], [True, False])
    with pytest.raises(ValueError, match="bins must be"):
        stats.calibration_error([[0.5, 0.5]], [0], bins=0)
    with pytest.raises(ValueError, match="probabilities must be"):
        stats.calibration_error([0.5, 0.5], [0])


def test_calibration_error_on_a_counted_example():
    # Two bins used: confidence 0.9 (4 rows, 3 right: gap 0.15) and 0.6 (4 rows, 2 right: gap 0.1).
    probs = [[0.9, 0.1]] * 4 + [[0.4, 0.6]] * 4
    labels = [0, 0, 0, 1, 1, 1, 0, 0]
    assert stats.calibration_error(probs, labels) == pytest.approx(0.5 * 0.15 + 0.5 * 0.1)
    assert stats.calibration_error([[1.0, 0.0]] * 3, [0, 0, 0]) == pytest.approx(0.0)


def test_mean_interval_is_the_student_t_interval():
    from scipy.stats import t

    values = [0.1, -0.05, 0.2, 0.07, 0.12]
    got = stats.mean_interval(values)
    mean = sum(values) / 5
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / 4)
    half = t.ppf(0.975, 4) * sd / math.sqrt(5)  # by hand: mean ± t(0.975, n - 1) · sd / sqrt(n)
    assert got["mean"] == pytest.approx(mean) and got["n"] == 5
    assert (got["low"], got["high"]) == (pytest.approx(mean - half), pytest.approx(mean + half))
    one = stats.mean_interval([0.3])
    assert one["mean"] == 0.3 and math.isnan(one["low"]) and math.isnan(one["high"])
    assert stats.mean_interval([0.2, 0.2, 0.2])["low"] == pytest.approx(0.2)  # no spread: the mean itself
    with pytest.raises(ValueError, match="at least one number"):
        stats.mean_interval([])
    with pytest.raises(ValueError, match="finite numbers"):
        stats.mean_interval([0.1, float("nan")])
