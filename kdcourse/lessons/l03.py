"""Lesson 03 (the distillation loop): its auto-checked exercises (worked solutions: kdcourse_solutions)."""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F

from ..losses import TEMPERATURE
from .exercises import is_number, report, unanswered


def _reference_losses(student, teacher, batch, temperature, alpha):
    """The right loss and the usual wrong ones, on the same dropout draw as the learner's step."""
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    with torch.no_grad():
        t_logits = teacher.eval()(**inputs).logits
    torch.manual_seed(0)
    s_logits = student(**inputs).logits
    T = temperature
    kl = F.kl_div(F.log_softmax(s_logits / T, -1), F.softmax(t_logits / T, -1), reduction="batchmean")
    hard = F.cross_entropy(s_logits, batch["labels"])
    loss = alpha * kl * T * T + (1 - alpha) * hard
    wrong = {"swapped": (1 - alpha) * kl * T * T + alpha * hard, "no_T2": alpha * kl + (1 - alpha) * hard}
    return loss, {k: v.item() for k, v in wrong.items()}


def check_distill_step(
    distill_step, student, teacher, batch, temperature: float = TEMPERATURE, alpha: float = 0.5
) -> bool:
    """Exercise 03.1: one distillation step `distill_step(student, teacher, batch, optimizer, T, alpha)`."""
    if unanswered(distill_step):
        return False
    if not callable(distill_step):
        return report(False, "", f"give a function, got {type(distill_step).__name__}")
    mine_s, mine_t = copy.deepcopy(student).train(), copy.deepcopy(teacher).train()
    ref_s, ref_t = copy.deepcopy(student).train(), copy.deepcopy(teacher)
    before_t = {k: v.clone() for k, v in mine_t.state_dict().items()}
    optimizer = torch.optim.SGD(mine_s.parameters(), lr=0.1)
    torch.manual_seed(0)
    got = distill_step(mine_s, mine_t, dict(batch), optimizer, temperature, alpha)
    if got is None:
        print("Not yet: distill_step returned None; write the step and return its loss.")
        return False
    got = got.item() if isinstance(got, torch.Tensor) else got
    loss, wrong = _reference_losses(ref_s, ref_t, batch, temperature, alpha)
    loss.backward()
    torch.optim.SGD(ref_s.parameters(), lr=0.1).step()
    if not all(torch.equal(v, before_t[k]) for k, v in mine_t.state_dict().items()):
        return report(
            False,
            "",
            "the teacher's weights changed: only the student may step (build "
            "the optimizer from student.parameters() only)",
        )
    if any(p.grad is not None for p in mine_t.parameters()):
        return report(False, "", "the teacher got gradients: compute its logits under torch.no_grad()")
    if mine_t.training:
        return report(False, "", "the teacher is still in training mode (dropout on): call teacher.eval()")
    if not is_number(got):
        return report(False, "", f"return the loss (a number or a 0-d tensor), got {type(got).__name__}")
    for name, value in wrong.items():
        if not math.isclose(got, loss.item(), rel_tol=1e-4) and math.isclose(got, value, rel_tol=1e-4):
            hint = {
                "swapped": "alpha weighs the teacher (soft) term here, 1 - alpha the hard labels",
                "no_T2": "multiply the KL term by T**2 so its gradients keep their size as T grows",
            }
            return report(False, "", hint[name])
    if not math.isclose(got, loss.item(), rel_tol=1e-4, abs_tol=1e-6):
        return report(
            False, "", f"your loss {got:.5f} differs from alpha * T² * KL + (1 - alpha) * CE = {loss.item():.5f}"
        )
    stepped = all(torch.allclose(a, b, atol=1e-5) for a, b in zip(mine_s.parameters(), ref_s.parameters()))
    return report(
        stepped,
        f"loss {got:.4f}; the student stepped and the teacher did not move — this is the whole distillation loop.",
        "the loss is right but the student's weights are not where one optimizer step "
        "takes them: call loss.backward() and optimizer.step() once",
    )


def check_standard_error(answer, accuracy: float, n: int) -> bool:
    """Exercise 03.2: the standard error sqrt(p(1-p)/n) of an accuracy p measured on n test examples."""
    if unanswered(answer):
        return False
    if not is_number(answer):
        return report(False, "", f"give a number, got {type(answer).__name__}")
    truth = math.sqrt(accuracy * (1 - accuracy) / n)
    if math.isclose(answer, truth * 100, rel_tol=1e-3):
        return report(False, "", "that is in percentage points; give a fraction like the accuracies")
    if math.isclose(answer, truth**2, rel_tol=1e-3):
        return report(False, "", "that is the variance p(1-p)/n; take its square root")
    return report(
        math.isclose(answer, truth, rel_tol=1e-3),
        f"±{truth:.4f}: the accuracy on endlessly many snippets like these lies within about "
        f"2 × {truth:.4f} = {2 * truth:.3f} of this one (a 95% confidence interval). Two models scored "
        "on the same snippets are compared with a paired test (McNemar's, section 5), not by setting "
        "their errors side by side.",
        f"{answer} differs from sqrt(p(1-p)/n) with p={accuracy:.4f}, n={n}",
    )


# --- T and alpha chosen by search (section 8) ------------------------------------------------------

KEEP = [0, 2, 4]  # the teacher's layers the lesson's student keeps (section 2)
DEFAULT = {"temperature": TEMPERATURE, "alpha": 0.5}  # the course's choice, tried first by the search
SPACE = {"temperature": (1.0, 10.0), "alpha": (0.0, 1.0)}  # T searched on a log scale


def _distributions() -> dict:
    from optuna.distributions import FloatDistribution

    (t_low, t_high), (a_low, a_high) = SPACE["temperature"], SPACE["alpha"]
    return {"temperature": FloatDistribution(t_low, t_high, log=True), "alpha": FloatDistribution(a_low, a_high)}


def _short_run(make_student, train, logits, tokenizer, profile, temperature, alpha, seed, score_on) -> float:
    """One playground-length distillation from cached logits; the student's accuracy on `score_on`."""
    from .. import training

    student = make_student()
    training.distill(
        student, train, tokenizer, profile, teacher_logits=logits, temperature=temperature, alpha=alpha,
        max_steps=profile.playground_steps, seed=seed, progress=False,
    )  # fmt: skip
    return training.evaluate(student, score_on, tokenizer, profile)["accuracy"]


def _cached_json(kind: str, settings: dict, build):
    """`build()`'s JSON-able result, computed once per `settings` and kept in the course cache."""
    import json

    from .. import cache

    path = cache.cache_path("search", f"{kind}-{cache.key(settings, 16)}.json")

    def load():
        return json.loads(path.read_text()) if cache.file_ready(path) else None

    return cache.once(path, load, build, lambda made: cache.atomic_write_json(made, path))


def _settings(make_student, train, logits, tokenizer, profile, seed, scored_on) -> dict:
    """What a search or a confirmation depends on: the student, the data, the logits and the profile's budget."""
    from .. import cache

    return {
        "student": cache.weights_fingerprint(make_student()),
        "train": cache.token_ids_fingerprint(train),
        "scored_on": cache.token_ids_fingerprint(scored_on),
        "logits": cache.fingerprint(logits),
        "tokenizer": type(tokenizer).__name__,
        "budget": [profile.playground_steps, profile.batch_size, profile.learning_rate, profile.max_length],
        "seed": seed,
    }


def search(make_student, train, logits, validation, tokenizer, profile, seed: int = 0, progress: bool = True):
    """Optuna's TPE over T (log scale, SPACE) and alpha for the profile's search_trials trials, the course's
    DEFAULT first: each trial distils a fresh student for playground_steps on cached teacher logits and is
    scored on `validation` (never the test split). Cached; returns the optuna Study (trials carry seconds)."""
    import optuna
    from tqdm.auto import tqdm

    settings = _settings(make_student, train, logits, tokenizer, profile, seed, validation)
    settings.update(trials=profile.search_trials, space=SPACE, default=DEFAULT, sampler="TPE")

    def build() -> list[dict]:
        import time

        study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
        study.enqueue_trial(DEFAULT)
        rows = []
        for _ in tqdm(range(profile.search_trials), desc="T and alpha search (trials)", disable=not progress):
            trial, start = study.ask(_distributions()), time.perf_counter()
            T, alpha = trial.params["temperature"], trial.params["alpha"]
            accuracy = _short_run(make_student, train, logits, tokenizer, profile, T, alpha, seed, validation)
            study.tell(trial, accuracy)
            rows.append(
                {"temperature": T, "alpha": alpha, "accuracy": accuracy, "seconds": time.perf_counter() - start}
            )
        return rows

    rows = _cached_json("t-alpha", settings, build)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    for row in rows:
        params = {"temperature": row["temperature"], "alpha": row["alpha"]}
        trial = optuna.trial.create_trial(params=params, distributions=_distributions(), value=row["accuracy"])
        trial.set_user_attr("seconds", row["seconds"])
        study.add_trial(trial)
    return study


def confirm(best: dict, make_student, train, logits, test, tokenizer, profile, progress: bool = True):
    """The search's best (T, alpha) against the course's DEFAULT on the test split, each trained as a trial
    was, paired over the profile's search_seeds: a `stats.paired_seeds` Comparison (points, best - default).
    Cached; also returns the per-seed accuracies."""
    from tqdm.auto import tqdm

    from .. import stats

    best = {"temperature": float(best["temperature"]), "alpha": float(best["alpha"])}
    seeds = list(profile.search_seeds)
    settings = {**_settings(make_student, train, logits, tokenizer, profile, 0, test), "best": best, "seeds": seeds}

    def build() -> dict:
        runs: dict[str, list[float]] = {"default": [], "best": []}
        for seed in tqdm(seeds, desc="default vs best, paired seeds", disable=not progress):
            for name, knobs in (("default", DEFAULT), ("best", best)):
                runs[name].append(
                    _short_run(make_student, train, logits, tokenizer, profile, knobs["temperature"],
                               knobs["alpha"], seed, test)
                )  # fmt: skip
        return runs

    runs = _cached_json("t-alpha-confirm", settings, build)
    names = (f"default (T={DEFAULT['temperature']:g}, α={DEFAULT['alpha']:g})",
             f"searched (T={best['temperature']:.2f}, α={best['alpha']:.2f})")  # fmt: skip
    return stats.paired_seeds(runs["default"], runs["best"], names=names), runs


def importances(study) -> dict[str, float]:
    """Each knob's share of the explained variation in validation accuracy (Optuna's PED-ANOVA, `importance_evaluator`):
    how differently it is spread in the best quarter of the trials than in all of them."""
    import optuna

    return optuna.importance.get_param_importances(study, evaluator=importance_evaluator())


def importance_evaluator():
    """The evaluator behind `importances` and the lesson's importance plot: PED-ANOVA on the best quarter."""
    from optuna.importance import PedAnovaImportanceEvaluator

    return PedAnovaImportanceEvaluator(target_quantile=0.25)


def check_important_knob(answer, study) -> bool:
    """Exercise 03.3: which knob, "temperature" or "alpha", moved validation accuracy more in this search."""
    if unanswered(answer):
        return False
    shares = importances(study)
    if answer not in shares:
        return report(False, "", f"answer 'temperature' or 'alpha' (the names in the plot), got {answer!r}")
    top = max(shares, key=lambda knob: shares[knob])
    other = next(k for k in shares if k != top)
    if math.isclose(shares[top], shares[other], abs_tol=1e-9):
        return report(
            True,
            f"the bars are equal ({shares[top]:.0%} each): {len(study.trials)} trials are too few to tell the "
            "best quarter from the rest, so neither knob can be said to matter more here.",
            "",
        )
    close = shares[top] - shares[other] < 0.2
    caveat = (
        f" The two shares are close ({shares[top]:.2f} vs {shares[other]:.2f}): with {len(study.trials)} noisy "
        "trials, another seed could rank them the other way."
        if close
        else ""
    )
    return report(
        answer == top,
        f"{top}: {shares[top]:.0%} of the explained variation, {other} {shares[other]:.0%}.{caveat}",
        f"the importance plot gives {answer} {shares[answer]:.0%}, {top} {shares[top]:.0%}: read the longer bar",
    )
