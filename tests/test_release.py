"""One repository and one release tag everywhere: badges, install cells, README, CITATION.cff, pages."""

import json
import sys
from importlib.metadata import version
from pathlib import Path

import kdcourse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import release  # noqa: E402


def test_every_place_names_the_repository_and_the_tag():
    assert release.problems() == [], "run `python tools/release.py --write`"


def test_a_release_installs_its_tag_and_a_development_version_main():
    v = kdcourse.__version__
    assert kdcourse.REF == ("main" if ".dev" in v else f"v{v}")
    assert version("kdcourse") == v, "pyproject.toml reads the version from kdcourse.__version__ (reinstall)"
    if ".dev" not in v:  # a release says what it holds
        assert f"\n## {v} " in (ROOT / "CHANGELOG.md").read_text(), f"CHANGELOG.md has no section for {v}"


def test_stale_links_are_found_and_rewritten(tmp_path, monkeypatch):
    cells = [
        {
            "cell_type": "markdown",
            "metadata": {},
            "source": ["[badge](https://colab.research.google.com/github/someone/old/blob/main/lessons/00_x.ipynb)\n"],
        },
        {
            "cell_type": "code",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
            "source": ['%pip install -q "kdcourse[deploy] @ git+https://github.com/someone/old"\n'],
        },
    ]
    path = tmp_path / "lessons" / "00_x.ipynb"
    path.parent.mkdir()
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    monkeypatch.setattr(release, "ROOT", tmp_path)
    nb, changed = release.lesson_fixes(path)
    assert len(changed) == 2
    text = json.dumps(nb)
    assert f"github/{kdcourse.REPO}/blob/{kdcourse.REF}/lessons/00_x.ipynb" in text
    assert f"kdcourse[deploy] @ git+https://github.com/{kdcourse.REPO}@{kdcourse.REF}" in text
    assert release.lesson_fixes(path)[1] == changed, "reading does not write"


def test_the_site_index_links_each_lesson_at_the_tag():
    import site_index

    page = site_index.index_html(
        [{"page": "00_x.html", "title": "t", "minutes": 1, "teaches": "", "notebook": "00_x.ipynb"}]
    )
    assert f"github/{kdcourse.REPO}/blob/{kdcourse.REF}/lessons/00_x.ipynb" in page
