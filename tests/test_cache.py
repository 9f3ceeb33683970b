"""Where the course cache lives: $KDCOURSE_CACHE first, then a mounted Google Drive (Colab), then ~/.cache."""

from pathlib import Path

from kdcourse import cache


def test_the_environment_variable_wins(monkeypatch, tmp_path):
    monkeypatch.setattr(cache, "DRIVE", tmp_path)  # even with a Drive mounted
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "mine"))
    assert cache.cache_dir() == tmp_path / "mine"


def test_a_mounted_drive_keeps_the_cache_across_colab_sessions(monkeypatch, tmp_path):
    monkeypatch.delenv(cache.CACHE_ENV, raising=False)
    monkeypatch.setattr(cache, "DRIVE", tmp_path)
    assert cache.cache_dir() == tmp_path / "kdcourse-cache"


def test_the_default_is_in_the_home_folder(monkeypatch, tmp_path):
    monkeypatch.delenv(cache.CACHE_ENV, raising=False)
    monkeypatch.setattr(cache, "DRIVE", tmp_path / "not-mounted")
    assert cache.cache_dir() == Path.home() / ".cache" / "kdcourse"
