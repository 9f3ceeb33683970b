"""`make html`: nbconvert renders a lesson with its stored outputs, and the index links every lesson."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import site_index  # noqa: E402


def test_index_links_every_lesson_with_its_metadata():
    entries = site_index.lessons()
    names = sorted(p.name for p in (ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
    assert [e["notebook"] for e in entries] == names
    page = site_index.index_html(entries)
    for e in entries:
        assert f'href="{e["page"]}"' in page and f"{e['minutes']} min" in page
        assert f"lessons/{e['notebook']}" in page  # the Colab link
    assert "&lt;b&gt;" in site_index.index_html([{**entries[0], "teaches": "<b>"}]), "text is escaped"


def test_site_renders_a_lesson_and_the_index(tmp_path):
    lessons = sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
    subprocess.run(
        [sys.executable, "-m", "nbconvert", "--to", "html", "--output-dir", str(tmp_path), str(lessons[0])],
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert "kdcourse.setup(" in (tmp_path / f"{lessons[0].stem}.html").read_text(), "code on the page"
    index = [sys.executable, str(ROOT / "tools" / "site_index.py"), str(tmp_path)]
    if len(lessons) > 1:  # pages missing: the script says so instead of writing broken links
        done = subprocess.run(index, capture_output=True, text=True, timeout=60)
        assert done.returncode != 0 and f"{lessons[1].stem}.html" in done.stderr and "make html" in done.stderr
        for other in lessons[1:]:
            (tmp_path / f"{other.stem}.html").write_text("<html></html>")
    subprocess.run(index, check=True, capture_output=True, timeout=60)
    assert f'href="{lessons[0].stem}.html"' in (tmp_path / "index.html").read_text()
