"""Warm every cache a lesson needs ahead of class, so a live demo never waits on training.

`python -m kdcourse prepare --lessons 03 04` (or `KDCOURSE_INSTRUCTOR=1` with
`kdcourse.setup(lesson="03")`) runs `warm`, which calls the very functions the lessons call, with the same arguments,
so the lesson then finds every teacher, logit file and sample set in the cache.
"""

from __future__ import annotations

import time

from .. import assets, corpus, deploy, probe, training
from ..profiles import Profile
from . import l03, l04, l05, l06, l07


def _probe(profile, seed):
    probe.fit_probe(profile, seed=seed, data=corpus.load_task_data(profile, seed=0))
    return "probe teacher (frozen MiniLM + logistic head)"


def _lesson_03_parts(profile, seed):
    """Lesson 03's teacher, tokenizer, tokenized splits and cached teacher logits on the training split."""
    teacher, tokenizer = training.load_teacher(profile, seed=seed)
    tokenized = training.tokenize_splits(corpus.load_task_data(profile, seed=0), tokenizer, profile.max_length)
    logits = training.teacher_logits(
        teacher, tokenized["train"], tokenizer, profile, cache_key=training.teacher_dir(profile, seed=seed).name
    )
    return teacher, tokenizer, tokenized, logits


def _teacher_and_logits(profile, seed):
    _lesson_03_parts(profile, seed)
    return "fine-tuned teacher + its logits on the training split"


def _t_alpha_search(profile, seed):
    import copy

    from .. import students

    teacher, tokenizer, tokenized, logits = _lesson_03_parts(profile, seed)
    student = students.student_from_teacher(teacher, l03.KEEP)  # the lesson's hand-made student, same weights
    make = lambda: copy.deepcopy(student)  # noqa: E731
    study = l03.search(make, tokenized["train"], logits, tokenized["validation"], tokenizer, profile, progress=False)
    if study.best_params != l03.DEFAULT:
        l03.confirm(study.best_params, make, tokenized["train"], logits, tokenized["test"], tokenizer, profile,
                    progress=False)  # fmt: skip
    return "T and alpha searched on validation, checked on the test split"


def _recipe_setup(profile, seed):
    l04.prepare(profile, seed=seed)
    return "lesson 04 setup (teacher, data, teacher cache)"


def _distilled_student(profile, seed):
    l05.distilled_student(l04.prepare(profile, seed=seed), seed=seed)
    return "distilled student (for quantization)"


def _deploy_lesson(profile, seed):
    setup = l07.prepare(profile, seed=seed)
    cnn_runs = l07.cnn_students(setup)
    l07.train_cnn(setup, seed=profile.cnn_seeds[0], embeddings="random")
    narrow_runs = l07.narrow_students(setup)
    static_runs = l07.static_students(setup)
    route_runs = l07.route_students(setup)
    if deploy.available()[0]:
        l07.onnx_pairs(l07.deploy_models(setup, cnn_runs, narrow_runs, static_runs, route_runs), setup)
    return "lesson 07: CNN, narrow, static and route students, ONNX files (fp32, int8)"


def _llm_lesson(profile, seed):
    l06.run(profile, log=lambda line: None)
    return "causal LM: teacher top-k, healed and compared students, teacher samples, on-policy run"


# Lesson number -> the caches it reads, in order.
LESSON_CACHES = {
    "00": [],
    "01": [_probe],
    "02": [_probe],
    "03": [_teacher_and_logits, _t_alpha_search],
    "04": [_teacher_and_logits, _recipe_setup],
    "05": [_teacher_and_logits, _recipe_setup, _distilled_student],
    "06": [_llm_lesson],
    "07": [_teacher_and_logits, _recipe_setup, _distilled_student, _deploy_lesson],
}


def normalise_lessons(lessons) -> list[str]:
    """Lesson ids as two-digit strings ('3' -> '03'); unknown ones refused with the valid list."""
    out = []
    for lesson in lessons:
        key = str(lesson).strip().zfill(2)
        if key not in LESSON_CACHES:
            raise ValueError(f"unknown lesson {lesson!r}; choose from {', '.join(LESSON_CACHES)}")
        out.append(key)
    return out


def warm(lessons, profile: Profile, seed: int = 0, verbose: bool = True) -> list[dict]:
    """Warm the caches of `lessons` for `profile`; one row per cache with the seconds it took."""
    assets.fetch_all(verbose=verbose)
    rows, done = [], set()
    for lesson in normalise_lessons(lessons):
        for step in LESSON_CACHES[lesson]:
            if step in done:
                continue
            start = time.perf_counter()
            what = step(profile, seed)
            done.add(step)
            rows.append({"lesson": lesson, "cache": what, "seconds": round(time.perf_counter() - start, 1)})
            if verbose:
                print(f"lesson {lesson}: {what} ready ({rows[-1]['seconds']} s)", flush=True)
    return rows
