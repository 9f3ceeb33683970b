"""Auto-checked exercises: each `check_...` computes the right answer itself and says what is off."""
from __future__ import annotations

import math

SOLUTIONS: dict[str, str] = {}


def _report(ok: bool, good: str, bad: str) -> bool:
    print(("Right! " + good) if ok else ("Not yet: " + bad))
    return ok


def _unanswered(answer) -> bool:
    if answer is None:
        print("Not yet: replace the `None` placeholder with your answer, then run the cell again.")
        return True
    return False


def solution(name: str) -> None:
    """Print the worked solution of an exercise (e.g. `solution("majority_baseline")`)."""
    if name not in SOLUTIONS:
        raise KeyError(f"no exercise {name!r}; known: {', '.join(sorted(SOLUTIONS))}")
    print(f"# solution: {name}\n{SOLUTIONS[name].strip()}\n")


# --- Lesson 00 --------------------------------------------------------------------------------

SOLUTIONS["majority_baseline"] = """
labels = list(reviews["test"]["label"])
answer = max(labels.count(0), labels.count(1)) / len(labels)
"""


def check_majority_baseline(answer, data) -> bool:
    """Exercise 00.1: the test split's majority-class accuracy, as a fraction in [0, 1]."""
    if _unanswered(answer):
        return False
    labels = data["test"]["label"]
    truth = max(labels.count(0), labels.count(1)) / len(labels)
    if not isinstance(answer, (int, float)) or isinstance(answer, bool):
        return _report(False, "", f"give a number, got {type(answer).__name__}")
    if answer > 1:
        return _report(False, "", f"{answer} is above 1: give a fraction (0.57), not a percentage")
    if math.isclose(answer, 1 - truth, abs_tol=1e-6):
        return _report(False, "", "that is the minority class's share; the baseline always guesses "
                                  "the most frequent label")
    return _report(math.isclose(answer, truth, abs_tol=1e-6),
                   f"always answering the majority label scores {truth:.3f}; every accuracy in the "
                   "course is read against this number.",
                   f"{answer} differs from the share of the most frequent label in the test split")


SOLUTIONS["embedding_params"] = """
answer = sum(p.numel() for p in teacher.embeddings.parameters())
"""


def check_embedding_params(answer, teacher) -> bool:
    """Exercise 00.2: how many of the teacher's parameters sit in its embedding block."""
    if _unanswered(answer):
        return False
    truth = sum(p.numel() for p in teacher.embeddings.parameters())
    words = teacher.embeddings.word_embeddings.weight.numel()
    total = sum(p.numel() for p in teacher.parameters())
    if answer == words:
        return _report(False, "", f"{answer} counts only the word embeddings; add the position and "
                                  "token-type embeddings and the LayerNorm")
    if answer == total:
        return _report(False, "", "that is the whole model; count teacher.embeddings only")
    return _report(answer == truth,
                   f"{truth:,} of {total:,} parameters ({truth / total:.0%}) are embeddings: "
                   "a student that only drops layers keeps all of them.",
                   f"{answer} is not the number of parameters in teacher.embeddings")


# --- Lesson 01 --------------------------------------------------------------------------------

def _is_number(answer) -> bool:
    return isinstance(answer, (int, float)) and not isinstance(answer, bool)


SOLUTIONS["distilbert_embedding_share"] = """
embedding = sum(p.numel() for p in distilbert.embeddings.parameters())
answer = embedding / sum(p.numel() for p in distilbert.parameters())
"""


def check_distilbert_embedding_share(answer, distilbert) -> bool:
    """Exercise 01.1: the fraction of DistilBERT's parameters that sit in its embedding block."""
    if _unanswered(answer):
        return False
    if not _is_number(answer):
        return _report(False, "", f"give a number, got {type(answer).__name__}")
    embedding = sum(p.numel() for p in distilbert.embeddings.parameters())
    total = sum(p.numel() for p in distilbert.parameters())
    truth = embedding / total
    if answer > 1:
        return _report(False, "", f"{answer} is above 1: give a fraction (0.36), not a percentage "
                                  "or a count")
    if math.isclose(answer, 1 - truth, abs_tol=1e-4):
        return _report(False, "", "that is the share of everything *except* the embeddings")
    words = distilbert.embeddings.word_embeddings.weight.numel() / total
    if math.isclose(answer, words, abs_tol=1e-4):
        return _report(False, "", "that counts only the word embeddings; add the position "
                                  "embeddings and the LayerNorm")
    return _report(math.isclose(answer, truth, abs_tol=1e-3),
                   f"{truth:.1%} of DistilBERT ({embedding:,} of {total:,}) is one lookup table: "
                   "halving the layers cannot shrink it, which is why 50% fewer layers gives only "
                   "~40% fewer parameters.",
                   f"{answer:.4f} differs from embeddings / all parameters of the model")


SOLUTIONS["measured_speedup"] = """
latency = {row["name"]: row["latency_ms"] for row in rows}
answer = latency["BERT-base"] / latency["DistilBERT"]
"""


def check_measured_speedup(answer, rows, slow: str = "BERT-base", fast: str = "DistilBERT") -> bool:
    """Exercise 01.2: how many times faster `fast` ran than `slow`, from benchmark_table rows."""
    if _unanswered(answer):
        return False
    if not _is_number(answer):
        return _report(False, "", f"give a number, got {type(answer).__name__}")
    latency = {row["name"]: row["latency_ms"] for row in rows}
    for name in (slow, fast):
        if name not in latency:
            raise ValueError(f"no row named {name!r} in rows; rows are: {', '.join(latency)}")
    truth = latency[slow] / latency[fast]
    if math.isclose(answer, 1 / truth, rel_tol=1e-3):
        return _report(False, "", "that is the inverse: divide the slow model's latency by the fast "
                                  "model's, so that 'faster' gives a ratio above 1")
    if math.isclose(answer, truth - 1, rel_tol=1e-3):
        return _report(False, "", f"{answer:.2f} is how much faster ('{truth - 1:.0%} faster'); the "
                                  "speed-up ratio is one more than that")
    if math.isclose(answer, latency[slow] - latency[fast], rel_tol=1e-3):
        return _report(False, "", "that is a difference in milliseconds; take a ratio")
    return _report(math.isclose(answer, truth, rel_tol=1e-3),
                   f"{fast} ran {truth:.2f}x as fast as {slow} here, i.e. {truth - 1:.0%} faster. "
                   "Ratios from one run on one machine are what to compare, never raw "
                   "milliseconds across machines.",
                   f"{answer} differs from latency[{slow!r}] / latency[{fast!r}]")


SOLUTIONS["most_uncertain_snippet"] = """
off_top = 1 - shown_probs.max(dim=-1).values   # mass the teacher puts off its top answer
answer = int(off_top.argmax())
"""


def check_most_uncertain_snippet(answer, probs) -> bool:
    """Exercise 01.3: the row index of `probs` with the most probability mass off its top class."""
    if _unanswered(answer):
        return False
    import torch

    probs = torch.as_tensor(probs, dtype=torch.float32)
    if probs.dim() != 2:
        raise ValueError(f"probs must be (snippets, classes), got shape {tuple(probs.shape)}")
    if isinstance(answer, bool) or not isinstance(answer, int):
        return _report(False, "", f"give a row index (an int), got {type(answer).__name__}; "
                                  "int(tensor.argmax()) turns a tensor into one")
    if not 0 <= answer < len(probs):
        return _report(False, "", f"{answer} is not a row index; there are {len(probs)} rows "
                                  f"(0 to {len(probs) - 1})")
    off_top = 1 - probs.max(dim=-1).values
    truth = int(off_top.argmax())
    if off_top[answer] == off_top.min() and off_top[answer] != off_top[truth]:
        return _report(False, "", f"row {answer} is the teacher's *most* confident snippet; look "
                                  "for the most mass off the top answer")
    return _report(bool(off_top[answer] == off_top[truth]),
                   f"row {truth} puts {float(off_top[truth]):.2f} of its mass off the top answer: "
                   "that is the snippet the teacher finds most ambiguous, a fact a hard label "
                   "cannot carry.",
                   f"row {answer} has {float(off_top[answer]):.2f} off its top answer, but another "
                   f"row has more")


# --- Lesson 02 (engineer "losses") -----------------------------------------------------------

SOLUTIONS["soft_targets"] = """
def my_soft_targets(logits, T):
    z = logits / T
    z = z - z.max(dim=-1, keepdim=True).values   # subtracting the max avoids exp() overflow
    e = torch.exp(z)
    return e / e.sum(dim=-1, keepdim=True)
# (or simply: torch.softmax(logits / T, dim=-1))
"""


def check_soft_targets(fn) -> bool:
    """Exercise 02.1: fn(logits, T) must equal softmax(logits / T) over the last dim, even for huge logits."""
    import torch

    from .losses import soft_targets

    if _unanswered(fn):
        return False
    g = torch.Generator().manual_seed(2)
    probes = [(torch.randn(4, 3, generator=g) * 3, T) for T in (0.5, 1.0, 2.0, 8.0)]
    probes.append((torch.tensor([[1000.0, 990.0, 0.0]]), 2.0))  # exp(500) overflows float32
    for logits, T in probes:
        try:
            got = fn(logits.clone(), T)
        except Exception as err:  # the student's code: report, do not crash
            return _report(False, "", f"your function raised {type(err).__name__}: {err}")
        want = soft_targets(logits, T)
        if not isinstance(got, torch.Tensor) or got.shape != want.shape:
            return _report(False, "", f"return a tensor of shape {tuple(want.shape)}, got "
                                      f"{getattr(got, 'shape', type(got).__name__)}")
        if not torch.isfinite(got).all():
            return _report(False, "", "NaN/inf for logits like 1000: subtract each row's max before exp()")
        if torch.allclose(got, torch.softmax(logits * T, -1), atol=1e-5) and T != 1.0:
            return _report(False, "", "you multiplied by T; divide the logits by T")
        if torch.allclose(got, torch.softmax(logits, -1), atol=1e-5) and T != 1.0:
            return _report(False, "", "the temperature has no effect: divide the logits by T")
        if not torch.allclose(got, want, atol=1e-5):
            return _report(False, "", f"at T={T} your probabilities differ from softmax(logits / T) "
                                      "(check the dim: softmax over classes, the last one)")
    return _report(True, "softmax(z / T) over the classes, stable for large logits.", "")


SOLUTIONS["temperature_for_top"] = """
# Two classes: p_top = 1 / (1 + exp(-gap / T)) < 0.6  <=>  T > gap / log(0.6 / 0.4)
gap = (sure_logits.max() - sure_logits.min()).item()
answer = 1.01 * gap / math.log(0.6 / 0.4)   # any T above the threshold works
# Any number of classes: search, since the top probability falls as T grows
lo, hi = 1e-3, 1e3
for _ in range(60):
    mid = (lo * hi) ** 0.5
    lo, hi = (mid, hi) if losses.soft_targets(sure_logits[None], mid).max() >= 0.6 else (lo, mid)
print(f"threshold by formula {gap / math.log(1.5):.4f}, by search {hi:.4f}")
"""


def temperature_threshold(logits_row, limit: float = 0.6) -> float:
    """The temperature above which the top class's probability drops below `limit` (bisection)."""
    from .losses import soft_targets

    classes = logits_row.shape[-1]
    if not 1 / classes < limit < 1:
        raise ValueError(f"limit must be in (1/{classes}, 1), got {limit}: with {classes} classes "
                         f"the top probability is always at least 1/{classes}")
    lo, hi = 1e-4, 1e4
    for _ in range(80):  # the top probability falls monotonically as T grows
        mid = (lo * hi) ** 0.5
        lo, hi = (mid, hi) if float(soft_targets(logits_row[None], mid).max()) >= limit else (lo, mid)
    return hi


def check_temperature_for_top(answer, logits_row, limit: float = 0.6) -> bool:
    """Exercise 02.2: a temperature T at which the teacher's top class gets less than `limit`."""
    from .losses import soft_targets

    if _unanswered(answer):
        return False
    if isinstance(answer, bool) or not isinstance(answer, (int, float)) or answer <= 0:
        return _report(False, "", f"give a positive number (a temperature), got {answer!r}")
    threshold = temperature_threshold(logits_row, limit)
    top = float(soft_targets(logits_row[None], float(answer)).max())
    return _report(top < limit,
                   f"at T={answer:g} the top class gets {top:.1%}; every T above {threshold:.3f} "
                   f"brings it under {limit:.0%}.",
                   f"at T={answer:g} the top class still gets {top:.1%}: raise T (softer) until it "
                   f"drops under {limit:.0%}")


SOLUTIONS["fix_kd_loss"] = """
def fixed_loss(student_logits, teacher_logits, labels, temperature=2.0, alpha=0.5):
    T = temperature
    soft = F.kl_div(F.log_softmax(student_logits / T, dim=-1),   # log-probs for the student
                    F.softmax(teacher_logits / T, dim=-1),       # probs for the teacher
                    reduction="batchmean") * T**2                # batchmean and T²
    hard = F.cross_entropy(student_logits, labels)
    return alpha * soft + (1 - alpha) * hard
losses.check_kd_loss(fixed_loss)
"""
