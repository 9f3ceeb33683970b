"""Lesson 02 (soft labels and the loss): its auto-checked exercises (worked solutions: kdcourse_solutions)."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..losses import soft_targets
from .exercises import is_number, report, unanswered


def check_soft_targets(fn) -> bool:
    """Exercise 02.1: fn(logits, T) must equal softmax(logits / T) over the last dim, even for huge logits."""
    if unanswered(fn):
        return False
    g = torch.Generator().manual_seed(2)
    probes = [(torch.randn(4, 3, generator=g) * 3, T) for T in (0.5, 1.0, 2.0, 8.0)]
    probes.append((torch.tensor([[1000.0, 990.0, 0.0]]), 2.0))  # exp(500) overflows float32
    for logits, T in probes:
        try:
            got = fn(logits.clone(), T)
        except Exception as err:  # the student's code: report, do not crash
            return report(False, "", f"your function raised {type(err).__name__}: {err}")
        want = soft_targets(logits, T)
        if not isinstance(got, torch.Tensor) or got.shape != want.shape:
            return report(
                False,
                "",
                f"return a tensor of shape {tuple(want.shape)}, got {getattr(got, 'shape', type(got).__name__)}",
            )
        if not torch.isfinite(got).all():
            return report(False, "", "NaN/inf for logits like 1000: subtract each row's max before exp()")
        if torch.allclose(got, torch.softmax(logits * T, -1), atol=1e-5) and T != 1.0:
            return report(False, "", "you multiplied by T; divide the logits by T")
        if torch.allclose(got, torch.softmax(logits, -1), atol=1e-5) and T != 1.0:
            return report(False, "", "the temperature has no effect: divide the logits by T")
        if not torch.allclose(got, want, atol=1e-5):
            return report(
                False,
                "",
                f"at T={T} your probabilities differ from softmax(logits / T) "
                "(check the dim: softmax over classes, the last one)",
            )
    return report(True, "softmax(z / T) over the classes, stable for large logits.", "")


def temperature_threshold(logits_row, limit: float = 0.6) -> float:
    """The temperature above which the top class's probability drops below `limit` (bisection)."""
    classes = logits_row.shape[-1]
    if not 1 / classes < limit < 1:
        raise ValueError(
            f"limit must be in (1/{classes}, 1), got {limit}: with {classes} classes "
            f"the top probability is always at least 1/{classes}"
        )
    lo, hi = 1e-4, 1e4
    for _ in range(80):  # the top probability falls monotonically as T grows
        mid = (lo * hi) ** 0.5
        lo, hi = (mid, hi) if float(soft_targets(logits_row[None], mid).max()) >= limit else (lo, mid)
    return hi


def check_temperature_for_top(answer, logits_row, limit: float = 0.6) -> bool:
    """Exercise 02.2: a temperature T at which the teacher's top class gets less than `limit`."""
    if unanswered(answer):
        return False
    if not is_number(answer) or answer <= 0:
        return report(False, "", f"give a positive number (a temperature), got {answer!r}")
    threshold = temperature_threshold(logits_row, limit)
    top = float(soft_targets(logits_row[None], float(answer)).max())
    return report(
        top < limit,
        f"at T={answer:g} the top class gets {top:.1%}; every T above {threshold:.3f} brings it under {limit:.0%}.",
        f"at T={answer:g} the top class still gets {top:.1%}: raise T (softer) until it drops under {limit:.0%}",
    )


# --- Exercise 02.3: a student-written distillation loss, checked against the classic bugs -------

KD_BUGS = {
    "input_softmax": "the student side gets softmax probabilities, but F.kl_div expects "
    "log-probabilities as its input: use F.log_softmax(student_logits / T, dim=-1)",
    "swapped": "teacher and student are swapped: this is KL(student ‖ teacher); F.kl_div(input, "
    "target) computes KL(target ‖ input), so input = student log-probs, target = teacher",
    "mean_reduction": "reduction='mean' divides by batch × classes; KL needs reduction='batchmean' "
    "(sum over classes, mean over the batch)",
    "no_t2": "the T² factor is missing: without it the soft term's gradients shrink like 1/T² "
    "and alpha no longer means the same thing at every temperature",
    "t_student_only": "T divides only the student's logits; soften the teacher's too (teacher_logits / T)",
    "t_teacher_only": "T divides only the teacher's logits; soften the student's too (student_logits / T)",
    "weights_swapped": "the weights are swapped: alpha must weigh the soft (teacher) term and "
    "1 - alpha the hard-label cross-entropy",
    "hard_softened": "the hard-label cross-entropy uses the softened student logits (student / T); "
    "use the raw student logits for the hard term",
}


def _kd_variant(s, t, labels, T, alpha, bugs=()):
    """The distillation loss with some of the classic bugs switched on (none: the right loss)."""
    log_s = F.log_softmax(s / (1.0 if "t_teacher_only" in bugs else T), dim=-1)
    log_t = F.log_softmax(t / (1.0 if "t_student_only" in bugs else T), dim=-1)
    inp, target = (log_t, log_s.exp()) if "swapped" in bugs else (log_s, log_t.exp())
    if "input_softmax" in bugs:
        inp = inp.exp()
    kd = F.kl_div(inp, target, reduction="mean" if "mean_reduction" in bugs else "batchmean")
    kd = kd if "no_t2" in bugs else kd * T * T
    hard = F.cross_entropy(s / T if "hard_softened" in bugs else s, labels)
    a = 1 - alpha if "weights_swapped" in bugs else alpha
    return a * kd + (1 - a) * hard


def _probes():
    gen = torch.Generator().manual_seed(1234)
    probes = []
    for n, c, T, alpha in ((4, 3, 2.0, 0.7), (5, 4, 4.0, 0.25), (3, 5, 3.0, 1.0), (6, 3, 0.5, 0.9)):
        s, t = torch.randn(n, c, generator=gen) * 2, torch.randn(n, c, generator=gen) * 3
        probes.append((s, t, torch.randint(0, c, (n,), generator=gen), T, alpha))
    return probes


@dataclass
class KDCheck:
    """Result of check_kd_loss: truthy when the loss is right; `bugs` names what is off."""

    ok: bool
    bugs: tuple
    message: str

    def __bool__(self):
        return self.ok


def check_kd_loss(fn, verbose: bool = True, rtol: float = 1e-4) -> KDCheck:
    """Run fn(student_logits, teacher_logits, labels, temperature=, alpha=) on probes; name its bug."""
    probes = _probes()
    try:
        with warnings.catch_warnings():  # torch warns on reduction='mean'; we name that bug below
            warnings.filterwarnings("ignore", message=r"reduction: 'mean' divides")
            got = [float(fn(s.clone(), t.clone(), y.clone(), temperature=T, alpha=a)) for s, t, y, T, a in probes]
    except Exception as err:  # the student's code: report any failure instead of crashing
        result = KDCheck(False, ("raised",), f"your loss raised {type(err).__name__}: {err}")
    else:

        def matches(bugs):
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=r"reduction: 'mean' divides")
                want = [float(_kd_variant(*p, bugs)) for p in probes]
            return all(math.isclose(g, w, rel_tol=rtol, abs_tol=1e-6) for g, w in zip(got, want))

        names = list(KD_BUGS)
        found = next(
            (
                b
                for b in [()] + [(n,) for n in names] + [(x, y) for i, x in enumerate(names) for y in names[i + 1 :]]
                if matches(b)
            ),
            None,
        )
        if found == ():
            result = KDCheck(
                True,
                (),
                "your loss matches T²·KL(teacher_T ‖ student_T) mixed with cross-entropy by alpha on every probe",
            )
        elif found:
            result = KDCheck(False, found, "; and ".join(KD_BUGS[b] for b in found))
        else:
            want = [float(_kd_variant(*p)) for p in probes]
            rows = ", ".join(
                f"T={p[3]}, alpha={p[4]}: got {g:.4f}, expected {w:.4f}" for p, g, w in zip(probes, got, want)
            )
            result = KDCheck(
                False, ("unknown",), f"the values differ in a way that is none of the classic bugs ({rows})"
            )
    if verbose:
        print(("Right! " if result.ok else "Not yet: ") + result.message)
    return result
