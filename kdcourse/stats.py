"""Is a difference real? The two tests the course uses to compare models, with their verdicts.

- Several seeds of two set-ups, paired by seed (same data order and initialisation): the paired t-test
  on the per-seed differences, with its 95% interval (`paired_seeds`).
- Two models scored on the same test snippets, one run each: McNemar's exact test on the snippets where
  they disagree (`mcnemar`).

Each returns a `Comparison` whose `verdict` is "B ahead of A", "A ahead of B", or "not decided at this
budget" (p >= 0.05, or too few runs to test). `mean_interval` gives a mean with its Student-t interval
(lesson 06 reads text quality over sets of openings with it). The arithmetic is SciPy's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

LEVEL = 0.95  # two-sided: a difference is decided when p < 1 - LEVEL


@dataclass(frozen=True)
class Comparison:
    """The outcome of one test: b - a (in `unit`), its 95% interval, the p-value, and the verdict."""

    a: str
    b: str
    difference: float
    low: float
    high: float
    p_value: float
    test: str
    unit: str = "points"

    @property
    def decided(self) -> bool:
        """True when the test rejects 'no difference' at the 5% level."""
        return not math.isnan(self.p_value) and self.p_value < 1 - LEVEL

    @property
    def verdict(self) -> str:
        """'<b> ahead of <a>', '<a> ahead of <b>', or 'not decided at this budget'."""
        if not self.decided:
            return "not decided at this budget"
        return f"{self.b} ahead of {self.a}" if self.difference > 0 else f"{self.a} ahead of {self.b}"

    @property
    def p_text(self) -> str:
        """'p = 0.032', 'p < 0.001', or 'no p-value' (one seed)."""
        if math.isnan(self.p_value):
            return "no p-value"
        return f"p = {self.p_value:.2g}" if self.p_value >= 0.001 else "p < 0.001"

    @property
    def interval_text(self) -> str:
        """'95% CI +0.40 to +3.76', or '' when there is no interval."""
        return "" if math.isnan(self.low) else f"95% CI {self.low:+.2f} to {self.high:+.2f}"

    def __str__(self) -> str:
        interval = f", {self.interval_text}" if self.interval_text else ""
        return (
            f"{self.b} − {self.a}: {self.difference:+.2f} {self.unit}{interval} ({self.test}, {self.p_text}) "
            f"-> {self.verdict}"
        )


def _numbers(values, name: str) -> list[float]:
    try:
        out = [float(v) for v in values]
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a list of numbers, got {values!r}") from None
    if any(math.isnan(v) or math.isinf(v) for v in out):
        raise ValueError(f"{name} must hold finite numbers, got {out}")
    return out


def paired_seeds(a, b, names: tuple[str, str] = ("A", "B"), scale: float = 100.0, unit: str = "points") -> Comparison:
    """Paired t-test of b - a over seeds (a[i] and b[i] share seed i); differences times `scale`.

    With one seed there is no test: the verdict is 'not decided'. Accuracies in [0, 1] with scale=100
    give differences in points.
    """
    from scipy import stats

    a, b = _numbers(a, "a"), _numbers(b, "b")
    if len(a) != len(b) or not a:
        raise ValueError(f"a and b must hold one value per seed, paired: got {len(a)} and {len(b)} values")
    diffs = [scale * (y - x) for x, y in zip(a, b)]
    mean, n = sum(diffs) / len(diffs), len(diffs)
    test = f"paired t-test over {n} seed{'s' * (n != 1)}"
    if n < 2:
        return Comparison(names[0], names[1], mean, math.nan, math.nan, math.nan, test + ": one seed, no test", unit)
    if max(diffs) - min(diffs) <= 1e-9 * max(1.0, abs(mean)):  # no spread (to rounding): t is 0/0 or infinite
        p = 1.0 if mean == 0 else 0.0
        return Comparison(names[0], names[1], mean, mean, mean, p, test + " (no spread)", unit)
    result = stats.ttest_1samp(diffs, 0.0)
    interval = result.confidence_interval(LEVEL)
    return Comparison(names[0], names[1], mean, interval.low, interval.high, float(result.pvalue), test, unit)


def mean_interval(values, level: float = LEVEL) -> dict:
    """Mean of `values` with its two-sided Student-t interval: {"mean", "low", "high", "n"}.

    With one value there is no interval (low and high are NaN); with no spread it is the mean itself."""
    from scipy import stats

    values = _numbers(values, "values")
    if not values:
        raise ValueError("values must hold at least one number, got none")
    n, mean = len(values), sum(values) / len(values)
    if n < 2:
        return {"mean": mean, "low": math.nan, "high": math.nan, "n": n}
    if max(values) - min(values) <= 1e-12 * max(1.0, abs(mean)):  # no spread: SciPy's interval would be NaN
        return {"mean": mean, "low": mean, "high": mean, "n": n}
    ci = stats.ttest_1samp(values, 0.0).confidence_interval(level)
    return {"mean": mean, "low": float(ci.low), "high": float(ci.high), "n": n}


def mcnemar(correct_a, correct_b, names: tuple[str, str] = ("A", "B")) -> Comparison:
    """McNemar's exact test: are two models' accuracies on the same snippets different?

    correct_a / correct_b: one bool per test snippet (prediction == label). Only the snippets where the
    two disagree carry information; under 'no difference' each falls either way with probability 1/2.
    The difference is b's accuracy minus a's, in points; the interval is the exact (Clopper-Pearson)
    interval of the disagreement split, turned into points.
    """
    from scipy import stats

    ca, cb = [bool(x) for x in correct_a], [bool(x) for x in correct_b]
    if len(ca) != len(cb) or not ca:
        raise ValueError(
            f"correct_a and correct_b must hold one bool per test snippet, the same snippets: got {len(ca)} and "
            f"{len(cb)}"
        )
    n = len(ca)
    only_b = sum(1 for x, y in zip(ca, cb) if y and not x)
    only_a = sum(1 for x, y in zip(ca, cb) if x and not y)
    disagree = only_a + only_b
    difference = 100 * (only_b - only_a) / n
    test = f"McNemar exact test, {only_b} vs {only_a} of {n:,} snippets"
    if disagree == 0:
        return Comparison(names[0], names[1], 0.0, 0.0, 0.0, 1.0, test, "points")
    result = stats.binomtest(only_b, disagree, 0.5)
    share = result.proportion_ci(LEVEL, method="exact")  # b's share of the disagreements
    low, high = (100 * disagree * (2 * s - 1) / n for s in (share.low, share.high))
    return Comparison(names[0], names[1], difference, low, high, float(result.pvalue), test, "points")


def calibration_error(probabilities, labels, bins: int = 10) -> float:
    """Expected calibration error: the gap between confidence and accuracy, averaged over confidence bins.

    probabilities: (n, classes) rows summing to 1; labels: n class ids. 0 is perfectly calibrated.
    """
    import torch

    probs, labels = torch.as_tensor(probabilities, dtype=torch.float64), torch.as_tensor(labels)
    if probs.ndim != 2 or labels.shape != probs.shape[:1] or len(labels) == 0:
        raise ValueError(
            f"probabilities must be (n, classes) and labels (n,), n > 0: got {tuple(probs.shape)} and "
            f"{tuple(labels.shape)}"
        )
    if not isinstance(bins, int) or bins < 1:
        raise ValueError(f"bins must be a positive int, got {bins!r}")
    confidence, predicted = probs.max(-1)
    correct = (predicted == labels).double()
    edges = torch.linspace(0, 1, bins + 1, dtype=torch.float64)
    error = 0.0
    for i in range(bins):
        inside = (confidence > edges[i]) & (confidence <= edges[i + 1])
        if inside.any():
            error += inside.double().mean().item() * abs(
                confidence[inside].mean().item() - correct[inside].mean().item()
            )
    return error
