"""The environment check of lesson 00: every package the course needs, its version, and the assets."""

from __future__ import annotations

from importlib import metadata

# What the course uses each dependency for (shown beside it); the versions come from the package metadata.
PURPOSES = {
    "torch": "models and training",
    "transformers": "pretrained models, Trainer, GGUF loading",
    "datasets": "Dataset / DatasetDict",
    "accelerate": "needed by transformers.Trainer",
    "matplotlib": "figures",
    "ipywidgets": "interactive widgets",
    "tqdm": "progress bars",
    "pandas": "result tables",
    "numpy": "arrays behind the tables and figures",
    "gguf": "reading the causal LM's GGUF file (lesson 06)",
    "packaging": "version checks (this table)",
    "scipy": "the paired t-test and McNemar's exact test (kdcourse.stats)",
    "filelock": "one process at a time publishes or removes a cache entry (kdcourse.cache)",
    "optuna": "searching temperature and alpha (lesson 03)",
}


def requirements() -> list:
    """The course's own dependencies (no extras), read from the installed kdcourse's metadata."""
    from packaging.requirements import Requirement

    try:
        declared = metadata.requires("kdcourse") or []
    except metadata.PackageNotFoundError:
        raise RuntimeError("kdcourse is not installed; run `make install` (or `pip install -e .`)") from None
    return [r for r in map(Requirement, declared) if r.marker is None or "extra" not in str(r.marker)]


def check_environment(fetch_assets: bool = False) -> list[dict]:
    """Rows of (package, needed, found, ok); raise RuntimeError naming every missing piece and the fix."""
    from . import assets, cache

    rows, problems = [], []
    for req in requirements():
        try:
            found = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            found = None
        ok = found is not None and req.specifier.contains(found, prereleases=True)
        needed = str(req.specifier)
        rows.append(
            {
                "package": req.name,
                "needed": needed,
                "found": found or "missing",
                "ok": ok,
                "for": PURPOSES.get(req.name, ""),
            }
        )
        if not ok:
            problems.append(f"{req.name}{needed} (found {found or 'nothing'})")
    for key in assets.ASSETS:
        folder = assets.asset_dir(key)
        damage = cache.folder_problem(folder) if folder.is_dir() else None
        if (damage or not folder.is_dir()) and fetch_assets:
            assets.fetch(key)  # a damaged copy is removed and fetched again
            damage = None
        cached = folder.is_dir() and damage is None
        found = "cached" if cached else f"damaged: {damage}" if damage else "not fetched yet"
        rows.append(
            {
                "package": f"asset:{key}",
                "needed": "cached",
                "ok": cached,
                "found": found,
                "for": assets.ASSETS[key].title,
            }
        )
        if not cached:
            problems.append(f"asset {key!r} {found} (run `python -m kdcourse fetch` or `make assets`)")
    if problems:
        raise RuntimeError(
            "the course environment is incomplete: "
            + "; ".join(problems)
            + ". Fix: run `make install` (or `pip install -e .`), then `make assets`."
        )
    return rows
