"""Instructor cache warming (kdcourse.lessons.warm, `python -m kdcourse prepare`): warms the caches a
lesson reads, after which the lesson recomputes nothing."""

import copy

import pytest

import kdcourse
from kdcourse import corpus, students, training
from kdcourse.lessons import l03, warm


def test_unknown_lesson_refused():
    with pytest.raises(ValueError, match=r"unknown lesson '9'; choose from 00, 01"):
        warm.normalise_lessons(["9"])
    assert warm.normalise_lessons([3, "04"]) == ["03", "04"]


def test_warm_then_lesson_03_recomputes_nothing(course, monkeypatch):
    rows = warm.warm(["3"], course, verbose=False)
    assert [r["lesson"] for r in rows] == ["03", "03"]  # teacher and logits; the search of T and alpha

    def no_training(*args, **kwargs):
        raise AssertionError("the lesson retrained although warm had warmed the cache")

    def no_teacher_pass(*args, **kwargs):
        raise AssertionError("the lesson recomputed teacher logits although they were cached")

    monkeypatch.setattr(training, "distill", no_training)
    monkeypatch.setattr(training, "predict_logits", no_teacher_pass)
    teacher, tokenizer = training.load_teacher(course, seed=0)  # what lesson 03 runs
    tokenized = training.tokenize_splits(corpus.load_task_data(course, seed=0), tokenizer, course.max_length)
    logits = training.teacher_logits(
        teacher, tokenized["train"], tokenizer, course, cache_key=training.teacher_dir(course, seed=0).name
    )
    assert logits.shape == (len(tokenized["train"]), 2)
    student_init = students.student_from_teacher(teacher, [0, 2, 4])  # section 2's student, by hand there
    make = lambda: copy.deepcopy(student_init)  # noqa: E731
    study = l03.search(make, tokenized["train"], logits, tokenized["validation"], tokenizer, course, progress=False)
    if study.best_params != l03.DEFAULT:  # section 8's check on the test split: cached too
        l03.confirm(study.best_params, make, tokenized["train"], logits, tokenized["test"], tokenizer, course)


def test_instructor_setup_warms_the_lesson(monkeypatch):
    calls = []
    monkeypatch.setattr(
        warm, "warm", lambda lessons, profile, seed=0, verbose=True: calls.append((list(lessons), profile.name)) or []
    )
    monkeypatch.setenv(kdcourse.INSTRUCTOR_ENV, "1")
    kdcourse.setup(seed=0, profile="smoke", lesson="03", verbose=False)
    assert calls == [(["03"], "smoke")]
    monkeypatch.setenv(kdcourse.INSTRUCTOR_ENV, "0")
    kdcourse.setup(seed=0, profile="smoke", lesson="03", verbose=False)
    assert len(calls) == 1  # students' runs do not warm anything


def _shown(monkeypatch, text):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj.data))
    kdcourse.instructor_note(text)
    return shown[0]


def test_instructor_notes_fold_for_students_and_open_for_instructors(monkeypatch):
    monkeypatch.setenv(kdcourse.INSTRUCTOR_ENV, "0")
    folded = _shown(monkeypatch, "Ask the class *first*.")
    assert folded.startswith("<details><summary>") and "KDCOURSE_INSTRUCTOR=1 opens" in folded
    assert "Ask the class *first*." in folded  # GitHub and PDF readers can still open it
    monkeypatch.setenv(kdcourse.INSTRUCTOR_ENV, "1")
    opened = _shown(monkeypatch, "Ask the class *first*.")
    assert opened.startswith("<details open>") and "opens these" not in opened
    with pytest.raises(ValueError, match="an instructor note needs some text, got ''"):
        kdcourse.instructor_note("")


def test_prepare_without_lessons_warms_every_lesson_that_reads_a_cache(monkeypatch):
    """`python -m kdcourse prepare` takes its default from warm.LESSON_CACHES, not a list typed twice."""
    from kdcourse import __main__ as cli
    from kdcourse.lessons import warm

    seen = {}
    monkeypatch.setattr(warm, "warm", lambda lessons, profile: seen.setdefault("lessons", lessons) and [])
    monkeypatch.setattr("kdcourse.setup", lambda **kwargs: None)
    assert cli.main(["prepare", "--profile", "smoke"]) == 0
    assert seen["lessons"] == [n for n, builds in warm.LESSON_CACHES.items() if builds]
    assert "00" not in seen["lessons"] and "07" in seen["lessons"]
