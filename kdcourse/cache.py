"""The course cache: where it lives, cache keys from settings, atomic writes and checksums.

Every artefact the course trains or computes once (teachers, logits, probe heads, students, LM
samples) is written here so that a reader sees the whole file or folder or nothing, even when a
kernel is interrupted mid-write or two processes race to build the same entry. When a file or folder
is written, its size and sha256 are recorded next to it (`<name>.sha256`, or `.kdcourse-sha256.json`
inside a folder); a loader checks them first, so a damaged or truncated artefact is rebuilt with a
one-line notice instead of being trained on or failing deep inside a library. A cache artefact without
its record (copied without it, say) cannot be vouched for and is rebuilt too: the checks fail closed.
Publishing and removing an entry happen under a per-entry file lock (`filelock`, in <cache>/.locks), so
a reader never removes what a writer is publishing; temporaries are named after their process, and
`sweep_temporaries()` removes those whose process is gone.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import socket
import sys
import tempfile
import time
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


# --- Fingerprints: what the cache keys are computed from -------------------------------------------
# Each fingerprint names entries already in people's caches, so each keeps its recipe: merging two would
# change their keys and rebuild what they name. They live here, in one place, with what each covers.


def _tensor_bytes(tensor) -> bytes:
    """A tensor's raw bytes (on the CPU, contiguous), whatever its dtype."""
    import torch

    return tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes()


def fingerprint(*parts, length: int = 20) -> str:
    """Short sha256 of `parts` in order: tensors by their bytes, anything else as sorted JSON."""
    import torch

    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, torch.Tensor):
            h.update(_tensor_bytes(part))
        else:
            h.update(json.dumps(part, sort_keys=True, default=str).encode())
        h.update(b"|")
    return h.hexdigest()[:length]


def weights_fingerprint(model) -> str:
    """A model's config and every parameter's name, shape, sum and sum of squares: changes when any weight does
    (the key of what a causal LM computes or trains: top-k caches, healed students, on-policy runs)."""
    import torch

    with torch.no_grad():
        parts = [
            (name, list(p.shape), f"{float(p.double().sum()):.10e}", f"{float(p.double().square().sum()):.10e}")
            for name, p in model.named_parameters()
        ]
    return fingerprint(model.config.to_json_string(), parts)


def exact_weights_fingerprint(model, length: int = 12) -> str:
    """Every byte of a model's state dict: an exported ONNX file is reused only for these very weights."""

    h = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        h.update(name.encode())
        h.update(_tensor_bytes(tensor))
    return h.hexdigest()[:length]


def loaded_model_fingerprint(model) -> str:
    """A model loaded from a known file, cheaply: its config, parameter count and first 64 embedding rows
    (the key of the teacher's sampled text; the course's LM copy records it to show it is the same model)."""
    emb = model.get_input_embeddings().weight
    parts = [
        model.config.to_json_string(),
        str(sum(p.numel() for p in model.parameters())),
        f"{float(emb[:64].detach().double().sum()):.6e}",
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def batches_fingerprint(batches) -> str:
    """The token ids and attention masks of a list of batches."""
    return fingerprint(*[t for b in batches for t in (b["input_ids"], b["attention_mask"])])


def token_ids_fingerprint(dataset, length: int = 12) -> str:
    """A tokenized split's token ids, row by row (so a cache never serves another dataset's logits)."""
    h = hashlib.sha256()
    for ids in dataset["input_ids"]:
        h.update(str(ids).encode())
    return h.hexdigest()[:length]


def rows_fingerprint(*chunks) -> str:
    """Chunks of rows (e.g. a split's texts and labels) as JSON, in order: full sha256 hex."""
    h = hashlib.sha256()
    for chunk in chunks:
        h.update(json.dumps(chunk).encode())
    return h.hexdigest()


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


# --- Checksums: recorded when an artefact is written, checked before it is loaded -----------------

SIDECAR = ".sha256"  # a cache file's record: "<name>.sha256" beside it
MANIFEST = ".kdcourse-sha256.json"  # a cache folder's record: every file in it, inside it
_checked: dict[str, tuple[int, int]] = {}  # path -> (size, mtime) already verified in this process


def digest(path) -> dict:
    """{"size": bytes, "sha256": hex} of a file, read in 1 MiB chunks."""
    h, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return {"size": size, "sha256": h.hexdigest()}


def _write_record(path: Path, sums: dict) -> None:
    with atomic_file(path, suffix=".sum", record=False) as tmp:
        tmp.write_text(json.dumps(sums, sort_keys=True))


def _in_cache(path: Path) -> bool:
    return Path(os.path.abspath(path)).is_relative_to(os.path.abspath(cache_dir()))


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def _differs(path: Path, name: str, want) -> str | None:
    """How the file differs from its record `want` ({"size", "sha256"}), or None; once per process."""
    stamp = _stamp(path)
    if _checked.get(str(path)) == stamp:
        return None
    want = want if isinstance(want, dict) else {}
    got = digest(path)
    if got["size"] != want.get("size"):
        return f"{name} has {got['size']:,} bytes, {want.get('size', 0):,} were written"
    if got["sha256"] != want.get("sha256"):
        return f"{name} changed since it was written (sha256 differs)"
    _checked[str(path)] = stamp
    return None


def file_problem(path) -> str | None:
    """Why the cache file `path` is not what was written (size or sha256), or None when it is intact.

    A cache file without its record (`<name>.sha256`) fails closed: nothing can vouch for it, so it is rebuilt.
    Outside the cache, only files saved with a record are checked.
    """
    path = Path(path)
    sidecar = path.with_name(path.name + SIDECAR)
    if not sidecar.is_file():
        if _in_cache(path):
            return f"it has no checksum record ({sidecar.name} is missing, so nothing vouches for it)"
        return None
    try:
        want = json.loads(sidecar.read_text())
    except ValueError:
        return f"its checksum record {sidecar.name} is unreadable"
    return _differs(path, path.name, want)


def record_folder(folder) -> None:
    """Write the folder's manifest: size and sha256 of every file in it (before it is published)."""
    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)
    _write_record(folder / MANIFEST, {str(p.relative_to(folder)): digest(p) for p in files})


def folder_problem(folder) -> str | None:
    """Why the cache folder is not what was written (a file missing, resized or changed), or None.

    A folder without its manifest fails closed: nothing can vouch for it, so it is rebuilt (or fetched again).
    """
    folder = Path(folder)
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return f"it has no checksum record ({MANIFEST} is missing, so nothing vouches for it)"
    try:
        sums = json.loads(manifest.read_text())
    except ValueError:
        return f"its checksum record {MANIFEST} is unreadable"
    if not isinstance(sums, dict):
        return f"its checksum record {MANIFEST} is unreadable"
    for name, want in sums.items():
        if not (folder / name).is_file():
            return f"{name} is missing"
        if problem := _differs(folder / name, name, want):
            return problem
    return None


def _notice(what: str, path, problem: str) -> None:
    print(f"kdcourse: {what} {path} is damaged ({problem}); rebuilding it", file=sys.stderr, flush=True)


def file_ready(path) -> bool:
    """True when the cache file exists and is intact; a damaged one is removed (with a notice): rebuild it."""
    path = Path(path)
    if not path.is_file():
        return False
    if file_problem(path) is None:
        return True
    with entry_lock(path):  # a writer may be publishing it right now: wait, then look again
        if not path.is_file():
            return False
        problem = file_problem(path)
        if problem is None:
            return True
        _notice("cache file", path, problem)
        for stale in (path, path.with_name(path.name + SIDECAR)):
            with contextlib.suppress(OSError):
                stale.unlink()
    return False


def folder_ready(folder, done: str | None = "config.json") -> bool:
    """True when the cache folder is published (holds `done`, if given) and intact; a damaged one is removed."""
    folder = Path(folder)

    def published():
        return (folder / done).is_file() if done else folder.is_dir()

    if not published():
        return False
    if folder_problem(folder) is None:
        return True
    with entry_lock(folder):  # a writer may be publishing it right now: wait, then look again
        if not published():
            return False
        problem = folder_problem(folder)
        if problem is None:
            return True
        _notice("cache folder", folder, problem)
        shutil.rmtree(folder, ignore_errors=True)
    return False


def load_cached(path):
    """torch.load(weights_only=True) of a cache file; None, with a one-line notice, if it cannot be read.

    The file's recorded size and sha256 are checked first; weights_only refuses any pickle that would
    run code; a damaged, truncated or foreign file is reported (naming it) and the caller rebuilds it
    instead of training on it or failing deep inside torch.
    """
    import torch

    if not file_ready(path):
        return None
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


# --- Locks and temporaries ------------------------------------------------------------------------------

LOCKS = ".locks"  # <cache>/.locks/<hash of the entry's path>.lock
LOCK_TIMEOUT = 15 * 60  # seconds to wait for another process's publish or removal before giving up
_locks: dict[str, object] = {}  # one FileLock per lock file, so a process can re-enter its own lock


def entry_lock(path):
    """A lock (filelock) for the cache entry `path`, held while it is published or removed; a no-op outside the
    cache or where the cache is read-only (nothing is published or removed there)."""
    path = Path(path)
    if not _in_cache(path):
        return contextlib.nullcontext()
    from filelock import FileLock

    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(cache_dir()))
    lock = Path(cache_dir()) / LOCKS / f"{key(rel, 16)}.lock"
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        if not os.access(lock.parent, os.W_OK):
            return contextlib.nullcontext()
    except OSError:
        return contextlib.nullcontext()
    if str(lock) not in _locks:
        _locks[str(lock)] = FileLock(str(lock), timeout=LOCK_TIMEOUT, mode=0o666 & ~_umask())
    return _locks[str(lock)]


@contextlib.contextmanager
def building(path) -> Iterator[None]:
    """Hold `path`'s lock while this process builds and publishes it: a second process that wants the same
    entry waits here (saying so), then finds it built. Check the cache again inside the block."""
    lock = entry_lock(path)
    if isinstance(lock, contextlib.nullcontext):
        yield
        return
    from filelock import Timeout

    try:
        lock.acquire(timeout=0)
    except Timeout:
        print(f"kdcourse: another process is building {path}; waiting for it to finish", file=sys.stderr, flush=True)
        lock.acquire(timeout=-1)  # a build can take an hour; the lock is released if that process dies
    try:
        yield
    finally:
        lock.release()


def once(path, load, build, save):
    """Build a cache entry once: `load()` it (None when absent or damaged); else check the cache is writable,
    take `path`'s lock (building), `load()` again (another process may have built it meanwhile), then
    `save(build())`. Returns what `load()` or `build()` gave. Every train-once cache of the course uses it."""
    if (found := load()) is not None:
        return found
    check_writable(Path(path).parent)  # before minutes of work, not after
    with building(path):  # another kernel building the same entry: wait for it, then load
        if (found := load()) is not None:
            return found
        made = build()
        save(made)
    return made


TEMP_PREFIX = ".tmp-"  # ".tmp-<host hash>-<pid>-<random>": whose it is, for sweep_temporaries()
STALE_SECONDS = 6 * 60 * 60  # an unowned temporary this old is a leftover (no write takes that long)


def temp_prefix() -> str:
    """The name prefix of this process's temporaries, which sweep_temporaries() can tell the owner of."""
    return f"{TEMP_PREFIX}{key(socket.gethostname(), 6)}-{os.getpid()}-"


def _temp_owner_alive(name: str) -> bool | None:
    """Whether the process a temporary's name names still runs; None when that cannot be told."""
    parts = name[len(TEMP_PREFIX) :].split("-")
    if len(parts) < 3 or parts[0] != key(socket.gethostname(), 6) or not parts[1].isdigit() or os.name == "nt":
        return None
    try:
        os.kill(int(parts[1]), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def sweep_temporaries(root=None, older_than: float = STALE_SECONDS) -> list[Path]:
    """Remove the temporaries (".tmp-…" files and folders) that killed writes left anywhere in the cache: those
    whose process is gone, or, owner unknown, unchanged for `older_than` seconds. Returns what it removed."""
    root = Path(root) if root is not None else cache_dir()
    removed, now = [], time.time()
    for folder, dirs, files in os.walk(root):  # symlinks (linked assets) are not followed
        for name in [*dirs, *files]:
            if not name.startswith(TEMP_PREFIX):
                continue
            entry = Path(folder) / name
            alive = _temp_owner_alive(name)
            if alive is None:
                with contextlib.suppress(OSError):
                    alive = now - entry.lstat().st_mtime <= older_than
            if alive is False:
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        entry.unlink()
                removed.append(entry)
        dirs[:] = [d for d in dirs if not d.startswith(TEMP_PREFIX)]
    return removed


@functools.cache
def _umask() -> int:
    """The process's umask (read once, by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _share(path, folder: bool = False) -> None:
    """Give a temporary file (0600) or folder (0700) the permissions the user's umask gives new ones, so a cache
    one account warms can be read by others where the umask allows it (e.g. a classroom machine)."""
    os.chmod(path, (0o777 if folder else 0o666) & ~_umask())


@contextlib.contextmanager
def atomic_file(path, suffix: str = ".tmp", record: bool | None = None) -> Iterator[Path]:
    """Yield a temporary file next to `path`; when the block ends without error, os.replace it onto `path`.

    Its size and sha256 go to `<name>.sha256` when `record` is True, or (record=None) when `path` is in
    the cache.
    """
    path = Path(path)
    if path.is_dir():  # checked before anything is written: no stray record or temporary file
        raise IsADirectoryError(f"{path} is a folder; give a file name inside it, e.g. {path / ('model' + suffix)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(), suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        _share(tmp)
        if record or (record is None and _in_cache(path)):
            sums = digest(tmp)
            with entry_lock(path):  # a reader that finds a mismatch waits for this publish, then looks again
                # the checksum first: a crash between the two leaves a mismatch (rebuilt), never a pass
                _write_record(path.with_name(path.name + SIDECAR), sums)
                os.replace(tmp, path)  # atomic: readers see the whole file or none
        else:
            os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def atomic_save(obj, path, record: bool | None = None) -> Path:
    """torch.save into a temporary file next to `path`, then os.replace it into place (never half a file)."""
    import torch

    with atomic_file(path, suffix=".pt", record=record) as tmp:
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
    tmp = tempfile.mkdtemp(prefix=temp_prefix(), dir=folder.parent)
    try:
        yield Path(tmp)
        _share(tmp, folder=True)
        record_folder(tmp)
        publish_folder(tmp, folder, done)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def publish_folder(tmp, folder, done: str | None = None) -> Path:
    """os.replace a finished temporary folder onto `folder`; losing the race to another process is fine."""
    folder = Path(folder)
    with entry_lock(folder):  # a reader that finds it damaged waits for this publish, then looks again
        try:
            os.replace(tmp, folder)  # atomic: the folder appears complete or not at all
        except OSError:
            if not (folder / done if done else folder).exists():  # nobody else published it: a real error
                raise
    return folder
