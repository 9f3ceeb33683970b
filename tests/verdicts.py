"""Reading the verdict lines `kdcourse.stats` prints (str(Comparison)) back out of a lesson's stored outputs.

A line reads '<b> − <a>: +0.40 points, 95% CI -0.61 to +1.40 (McNemar exact test, 50 vs 40 of 2,485 snippets,
p = 0.34) -> not decided at this budget'. `comparison(text, b, a)` finds the line comparing b with a and returns
its parts; `check_verdict` asserts the verdict is the one the p-value and the sign of the difference give, so a
check can then hold the prose against the verdict. Not collected by pytest (no `test_` prefix).
"""

import math
import re
from typing import NamedTuple

LEVEL = 0.05  # kdcourse.stats decides a difference when p < 0.05


class Printed(NamedTuple):
    b: str
    a: str
    difference: float  # b - a, points
    low: float  # 95% interval (nan when none is printed)
    high: float
    test: str  # e.g. 'McNemar exact test, 50 vs 40 of 2,485 snippets'
    p: float  # nan for 'no p-value'; 0.0009 stands for 'p < 0.001'
    verdict: str
    line: str

    @property
    def decided(self) -> bool:
        return self.verdict != "not decided at this budget"

    def mcnemar_counts(self) -> tuple[int, int, int]:
        """(only b right, only a right, snippets) of a McNemar line."""
        found = re.search(r"McNemar exact test, (\d+) vs (\d+) of ([\d,]+) snippets", self.test)
        assert found, f"not a McNemar line: {self.line!r}"
        return int(found.group(1)), int(found.group(2)), int(found.group(3).replace(",", ""))


_P = r"(p = [\d.e+-]+|p < 0\.001|no p-value)"


def comparison(text: str, b: str, a: str) -> Printed:
    """The printed comparison of `b` with `a` (b − a) in `text`."""
    pattern = (
        rf"{re.escape(b)} − {re.escape(a)}: ([+-][\d.]+) points"
        r"(?:, 95% CI ([+-][\d.]+) to ([+-][\d.]+))? "
        rf"\((.+?), {_P}\) -> (.+)$"
    )
    found = re.search(pattern, text, re.M)
    assert found, f"the stored outputs print no verdict line comparing {b!r} with {a!r}"
    diff, low, high, test, p, verdict = found.groups()
    p_value = math.nan if p == "no p-value" else 0.0009 if p == "p < 0.001" else float(p.split("= ")[1])
    return Printed(
        b,
        a,
        float(diff),
        float(low) if low else math.nan,
        float(high) if high else math.nan,
        test,
        p_value,
        verdict.strip(),
        found.group(0),
    )


def check_verdict(c: Printed) -> None:
    """The printed verdict is the one its p-value and the sign of its difference give; the interval holds the
    difference; a McNemar line's difference is its counts' (only b - only a) / n."""
    decided = not math.isnan(c.p) and c.p < LEVEL
    expected = (
        "not decided at this budget"
        if not decided
        else (f"{c.b} ahead of {c.a}" if c.difference > 0 else f"{c.a} ahead of {c.b}")
    )
    assert c.verdict == expected, f"{c.line!r}: the verdict should read {expected!r}"
    if not math.isnan(c.low):
        assert c.low - 0.01 <= c.difference <= c.high + 0.01, c.line
    if "McNemar" in c.test:
        only_b, only_a, n = c.mcnemar_counts()
        assert abs(c.difference - 100 * (only_b - only_a) / n) <= 0.006, c.line


def after(text: str, prefix: str) -> str:
    """The rest of the first line of `text` that starts with `prefix` (leading spaces ignored), e.g. the verdict
    printed after 'all labels: '."""
    found = re.search(rf"^\s*{re.escape(prefix)}(.*)$", text, re.M)
    assert found, f"the stored outputs print no line starting {prefix!r}"
    return found.group(1)
