import pytest

from kdcourse import profiles
from kdcourse.profiles import PROFILES, get_profile


def test_three_profiles_with_sizes():
    assert set(PROFILES) == {"smoke", "cpu", "gpu"}
    smoke, cpu = PROFILES["smoke"], PROFILES["cpu"]
    assert smoke.train_size < 10_000 and smoke.bench_repeats <= cpu.bench_repeats
    assert PROFILES["gpu"].device == "cuda"


def test_env_var_picks_profile(monkeypatch):
    monkeypatch.setenv(profiles.ENV_VAR, "smoke")
    assert get_profile().name == "smoke"
    monkeypatch.setenv(profiles.ENV_VAR, "CPU")
    assert get_profile().name == "cpu"


def test_detected_without_env(monkeypatch):
    import torch

    monkeypatch.delenv(profiles.ENV_VAR, raising=False)
    assert get_profile().name == ("gpu" if torch.cuda.is_available() else "cpu")


def test_unknown_profile_lists_valid_ones():
    with pytest.raises(ValueError, match=r"unknown profile 'laptop'; choose one of: smoke, cpu, gpu"):
        get_profile("laptop")


def test_gpu_profile_refused_without_cuda(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="needs a CUDA device"):
        get_profile("gpu")


def test_replace_validates():
    p = PROFILES["smoke"].replace(train_size=10)
    assert p.train_size == 10 and p.name == "smoke"
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        PROFILES["smoke"].replace(batch_size=0)
    with pytest.raises(ValueError, match="train_size must be a positive int or None"):
        PROFILES["smoke"].replace(train_size=-5)


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_the_teacher_gets_at_least_the_students_training_budget(name):
    # Lesson 03 reads the students against the teacher: a teacher trained for fewer epochs is no fair bar.
    profile = PROFILES[name]
    assert profile.teacher_epochs >= profile.student_epochs, (name, profile.teacher_epochs, profile.student_epochs)
