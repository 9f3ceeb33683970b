"""Lesson 00's auto-checked exercises: each solution runs with the lesson's names and passes its checker;
the classic wrong answers are refused with a reason; placeholders say "Not yet"."""

from types import SimpleNamespace

import pytest

import kdcourse
from kdcourse import corpus
from kdcourse.lessons import l00
from kdcourse_solutions import SOLUTIONS


@pytest.fixture(scope="module")
def lesson():
    """The names lesson 00 defines before its exercises: the real review splits, the course's profiles."""
    return {"reviews": corpus.load_reviews(seed=0), "corpus": corpus, "kdcourse": kdcourse, "l00": l00}


def solved(name, lesson):
    namespace = dict(lesson)
    exec(SOLUTIONS[name], namespace)
    return namespace["answer"]


def test_majority_baseline(lesson, capsys):
    reviews = lesson["reviews"]
    answer = solved("majority_baseline", lesson)
    labels = list(reviews["test"]["label"])
    assert answer == max(labels.count(0), labels.count(1)) / len(labels) and 0.5 < answer < 1
    assert l00.check_majority_baseline(answer, reviews)
    assert "Right!" in capsys.readouterr().out
    assert not l00.check_majority_baseline(1 - answer, reviews)
    assert "minority class's share" in capsys.readouterr().out
    assert not l00.check_majority_baseline(100 * answer, reviews)
    assert "not a percentage" in capsys.readouterr().out
    assert not l00.check_majority_baseline(str(answer), reviews)
    assert "give a number" in capsys.readouterr().out
    assert not l00.check_majority_baseline(None, reviews)
    assert "Not yet: replace the `None`" in capsys.readouterr().out


def test_profile_choice(lesson, capsys):
    reviews = lesson["reviews"]
    answer = solved("profile_choice", lesson)
    assert answer == "cpu"
    assert l00.check_profile_choice(answer, kdcourse.PROFILES, reviews)
    out = capsys.readouterr().out
    assert "Right!" in out and "2,485 snippets: +/- 0.016" in out
    assert not l00.check_profile_choice("smoke", kdcourse.PROFILES, reviews)
    out = capsys.readouterr().out
    assert "256 snippets" in out and "+/- 0.049" in out and "checking that code runs" in out
    assert not l00.check_profile_choice("gpu", kdcourse.PROFILES, reviews)
    assert "needs a CUDA GPU" in capsys.readouterr().out
    assert not l00.check_profile_choice("laptop", kdcourse.PROFILES, reviews)
    assert "not a profile" in capsys.readouterr().out
    assert not l00.check_profile_choice(kdcourse.PROFILES["cpu"], kdcourse.PROFILES, reviews)
    assert "as a string" in capsys.readouterr().out
    assert not l00.check_profile_choice(None, kdcourse.PROFILES, reviews)
    assert "Not yet: replace the `None`" in capsys.readouterr().out


def test_profile_choice_is_computed_not_remembered(lesson, capsys):
    """The checker reads the profiles it is given: with a GPU, gpu fits too; with a bigger smoke test split, smoke
    fits; with a tighter margin, nothing does (an error, not a wrong verdict)."""
    reviews = lesson["reviews"]
    assert l00.check_profile_choice("gpu", kdcourse.PROFILES, reviews, gpu=True)
    assert "Right!" in capsys.readouterr().out
    bigger = {**kdcourse.PROFILES, "smoke": SimpleNamespace(device="cpu", test_size=4000)}
    assert l00.check_profile_choice("smoke", bigger, reviews)
    assert "4,000 snippets" in capsys.readouterr().out
    with pytest.raises(ValueError, match="no profile runs here"):
        l00.check_profile_choice("cpu", kdcourse.PROFILES, reviews, margin=0.005)
    assert l00.interval_half_width(0.8, 256) == pytest.approx(0.049, abs=5e-4)
