"""The environment check of lesson 00: every package the course needs, its version, and the assets."""

from __future__ import annotations

from importlib import metadata

# (import name, distribution name, minimum version, what the course uses it for)
REQUIREMENTS = [
    ("torch", "torch", "2.4", "models and training"),
    ("transformers", "transformers", "4.56", "pretrained models, Trainer, GGUF loading"),
    ("datasets", "datasets", "3.0", "Dataset / DatasetDict"),
    ("accelerate", "accelerate", "1.1", "needed by transformers.Trainer"),
    ("matplotlib", "matplotlib", "3.8", "figures"),
    ("ipywidgets", "ipywidgets", "7.7", "interactive widgets"),
    ("tqdm", "tqdm", "4.66", "progress bars"),
    ("gguf", "gguf", "0.10", "reading the causal LM's GGUF file (lesson 06)"),
]


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("+")[0].split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def check_environment(fetch_assets: bool = False) -> list[dict]:
    """Rows of (package, needed, found, ok); raise RuntimeError naming every missing piece and the fix."""
    from . import assets

    rows, problems = [], []
    for module, dist, minimum, why in REQUIREMENTS:
        try:
            found = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found = None
        ok = found is not None and _version_tuple(found) >= _version_tuple(minimum)
        rows.append({"package": module, "needed": f">={minimum}", "found": found or "missing", "ok": ok, "for": why})
        if not ok:
            problems.append(f"{dist}>={minimum} (found {found or 'nothing'})")
    for key in assets.ASSETS:
        cached = assets.asset_dir(key).is_dir()
        if not cached and fetch_assets:
            assets.fetch(key)
            cached = True
        rows.append(
            {
                "package": f"asset:{key}",
                "needed": "cached",
                "ok": cached,
                "found": "cached" if cached else "not fetched yet",
                "for": assets.ASSETS[key].title,
            }
        )
        if not cached:
            problems.append(f"asset {key!r} (run `python -m kdcourse fetch` or `make assets`)")
    if problems:
        raise RuntimeError(
            "the course environment is incomplete: "
            + "; ".join(problems)
            + ". Fix: run `make install` (or `pip install -e .`), then `make assets`."
        )
    return rows
