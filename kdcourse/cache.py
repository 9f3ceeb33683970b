"""The course cache: where it lives, cache keys from settings, and atomic writes (temp + os.replace).

Every artefact the course trains or computes once (teachers, logits, probe heads, students, LM
samples) is written here so that a reader sees the whole file or folder or nothing, even when a
kernel is interrupted mid-write or two processes race to build the same entry.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

CACHE_ENV = "KDCOURSE_CACHE"
# Where Colab mounts Google Drive (`from google.colab import drive; drive.mount("/content/drive")`).
# A Colab session loses its disk on every restart; a cache on Drive keeps the assets and the trained
# teachers and students from one session to the next.
DRIVE = Path("/content/drive/MyDrive")


def cache_dir() -> Path:
    """The asset cache: $KDCOURSE_CACHE, else a folder on a mounted Google Drive, else ~/.cache/kdcourse."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    if DRIVE.is_dir():
        return DRIVE / "kdcourse-cache"
    return Path(os.path.expanduser("~")) / ".cache" / "kdcourse"


def cache_path(*parts) -> Path:
    """cache_dir() / parts, refusing any part that could lead outside the cache ('..', '/', empty)."""
    root = cache_dir()
    for part in parts:
        part = str(part)
        if part in ("", ".", "..") or "/" in part or "\\" in part or os.sep in part:
            raise ValueError(
                f"cache name {part!r} would leave the cache folder {root}; names may hold "
                "letters, digits, '-', '_' and '.' (check the profile name or the key)"
            )
    return root.joinpath(*map(str, parts))


def key(settings, length: int = 10) -> str:
    """Short sha256 of `settings` as sorted JSON: the cache key of whatever those settings produce."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:length]


def check_writable(folder) -> Path:
    """Create `folder` if needed and make sure a file can be written in it; else a clear PermissionError.

    Call it before long work whose result is saved in the cache, so the work is not lost on save.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise PermissionError(
            f"the course cache folder {folder} is not writable ({err.strerror or err}); "
            f"point {CACHE_ENV} at a folder you can write, e.g. "
            f"`export {CACHE_ENV}=$HOME/kdcourse-cache`, then run again "
            "(checked before the work starts, so nothing was lost)"
        ) from None
    return folder


def load_cached(path):
    """torch.load(weights_only=True) of a cache file; None, with a one-line notice, if it cannot be read.

    weights_only refuses any pickle that would run code; a damaged, truncated or foreign file is
    reported (naming it) and the caller rebuilds it instead of failing deep inside torch.
    """
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # any unreadable or unsafe file: rebuild rather than crash
        reason = (str(err).strip().splitlines() or [""])[0][:160]
        print(
            f"kdcourse: cache file {path} is damaged or not one the course wrote "
            f"({type(err).__name__}: {reason}); rebuilding it",
            file=sys.stderr,
            flush=True,
        )
        return None


@contextlib.contextmanager
def atomic_file(path, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary file next to `path`; when the block ends without error, os.replace it onto `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)  # atomic: readers see the whole file or none
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def atomic_save(obj, path) -> Path:
    """torch.save into a temporary file next to `path`, then os.replace it into place (never half a file)."""
    import torch

    with atomic_file(path, suffix=".pt") as tmp:
        torch.save(obj, tmp)
    return Path(path)


def atomic_write_json(obj, path) -> Path:
    """json.dump into a temporary file next to `path`, then os.replace it into place."""
    with atomic_file(path, suffix=".json") as tmp:
        tmp.write_text(json.dumps(obj))
    return Path(path)


@contextlib.contextmanager
def atomic_folder(folder, done: str = "config.json") -> Iterator[Path]:
    """Yield a temporary folder next to `folder`; when the block ends, os.replace it onto `folder`.

    The folder appears complete or not at all. If another process published `folder` first (it
    holds `done`), that copy is kept and ours is dropped.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".tmp-", dir=folder.parent)
    try:
        yield Path(tmp)
        publish_folder(tmp, folder, done)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def publish_folder(tmp, folder, done: str | None = None) -> Path:
    """os.replace a finished temporary folder onto `folder`; losing the race to another process is fine."""
    folder = Path(folder)
    try:
        os.replace(tmp, folder)  # atomic: the folder appears complete or not at all
    except OSError:
        if not (folder / done if done else folder).exists():  # nobody else published it: a real error
            raise
    return folder
