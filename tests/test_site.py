"""`make html`: nbconvert renders a lesson with its stored outputs, and the index links every lesson; the pages
need no network (MathJax beside them, no widget manager) and every figure has its alt text."""

import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

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


# --- offline pages and alt text (tools/site_build.py) -------------------------------------------------------

LESSONS = sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# Hosts nbconvert's stock page loads scripts from, in a src or in a script that builds one (the widget manager).
CDN_HOSTS = ("cdnjs.cloudflare.com", "unpkg.com", "cdn.jsdelivr.net", "cdn.mathjax.org")
NBCONVERT_PLACEHOLDER = "No description has been provided for this image"  # nbconvert's alt for an <img> without one


def notebook(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def figure_count(cell: dict) -> int:
    return sum("image/png" in o.get("data", {}) for o in cell.get("outputs", []))


def alt_texts(cell: dict) -> list:
    return cell["metadata"].get("kdcourse", {}).get("alt", [])


class Tags(HTMLParser):
    """Every start tag of a page, with its attributes."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def offline_problems(page: Path) -> list[str]:
    """What in a rendered lesson page needs the network, or leaves a figure without alt text (empty: nothing)."""
    text = page.read_text(encoding="utf-8")
    tags = Tags(text).tags
    problems = []
    for tag, attrs in tags:
        url = attrs.get("src") or attrs.get("href") or ""
        if tag in ("script", "link") and re.match(r"(https?:)?//", url):
            problems.append(f"<{tag}> loads {url}")
        if tag == "img" and attrs.get("alt", "").strip() in ("", NBCONVERT_PLACEHOLDER):
            problems.append(f"<img> without alt text: {attrs.get('src', '')[:60]}")
    problems += [f"the page names {host}" for host in CDN_HOSTS if host in text]
    if "application/vnd.jupyter.widget-" in text:
        problems.append("embedded widget state or views (they need the widget manager)")
    mathjax = [a["src"] for t, a in tags if t == "script" and "mathjax" in a.get("src", "").lower()]
    if len(mathjax) != 1 or re.match(r"[a-z]+:|/", mathjax[0]):
        return [*problems, f"MathJax is not loaded once from a relative path: {mathjax}"]
    path, _, query = mathjax[0].partition("?")
    folder = (page.parent / path).parent
    if not (page.parent / path).is_file():
        problems.append(f"{path} is not beside the page")
    for name in re.search(r"config=([^&]*)", query).group(1).split(",") if "config=" in query else []:
        if not (folder / "config" / f"{name}.js").is_file():
            problems.append(f"MathJax config {name} is not in the local copy")
    font = re.search(r'webFont:\s*"([^"]+)"', text)
    if not font or not (folder / "fonts" / "HTML-CSS" / font.group(1) / "woff").is_dir():
        problems.append("MathJax's web font is not one the local copy ships")
    return problems


def test_every_figure_has_alt_text_in_its_cell_metadata():
    missing, figures = [], 0
    for path in LESSONS:
        for i, cell in enumerate(notebook(path)["cells"]):
            if cell["cell_type"] != "code":
                continue
            n, alts = figure_count(cell), alt_texts(cell)
            figures += n
            if len(alts) != n or not all(isinstance(a, str) and a.strip() for a in alts):
                missing.append(f"{path.name}, cell {i}: {n} figure(s), alt texts {alts}")
    assert figures > 0, "no figures found: is the output check looking in the right place?"
    assert not missing, 'write one short alt text per figure in cell metadata {"kdcourse": {"alt": [...]}}:\n' + (
        "\n".join(missing)
    )


NUMBER = re.compile(r"\d+(?:\.\d+)?")


def alt_numbers_not_in_source(nb: dict) -> list[str]:
    """Numbers in a lesson's alt texts that its code and markdown sources never write: measured ones, copied
    from an output. Cell metadata survives `make notebooks`, so such an alt text would go stale on a re-run."""
    source = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] in ("code", "markdown"))
    known = set(NUMBER.findall(source))
    return [
        f"cell {i}: {number} in {alt!r}"
        for i, cell in enumerate(nb["cells"])
        if cell["cell_type"] == "code"
        for alt in alt_texts(cell)
        for number in NUMBER.findall(alt)
        if number not in known
    ]


def test_alt_texts_quote_no_measured_numbers():
    quoted = [f"{path.name}, {problem}" for path in LESSONS for problem in alt_numbers_not_in_source(notebook(path))]
    assert not quoted, (
        "an alt text describes the figure (chart type, axes, series, reference lines) and quotes only numbers "
        "the lesson's code or markdown sets (T = 2, max_length 64); measured values belong in printed output:\n"
        + "\n".join(quoted)
    )
    # The check can fail: a number that only an output holds is caught, one the source sets is not.
    figure = {
        "cell_type": "code",
        "source": ["plots.latency_bars(rows, max_length=64)"],
        "metadata": {"kdcourse": {"alt": ["Bars at max_length 64: teacher 232.6 ms (x2.00 as fast)."]}},
        "outputs": [{"output_type": "stream", "text": ["teacher 232.6 ms, x2.00\n"]}],
    }
    assert alt_numbers_not_in_source({"cells": [figure]}) == [
        f"cell 0: {n} in {alt_texts(figure)[0]!r}" for n in ("232.6", "2.00")
    ]


def test_progress_bars_show_the_text_they_ended_at():
    pytest.importorskip("nbconvert")
    import site_build

    def bar(value, right):
        return {
            "box": {"model_name": "HBoxModel", "state": {"children": ["IPY_MODEL_a", "IPY_MODEL_b", "IPY_MODEL_c"]}},
            "a": {"model_name": "HTMLModel", "state": {"value": "runs:\u2007100%"}},
            "b": {"model_name": "FloatProgressModel", "state": {"value": value, "min": 0.0, "max": 4.0}},
            "c": {"model_name": "HTMLModel", "state": {"value": right}},
        }

    assert site_build.progress_text("box", bar(4.0, "\u20074/4\u2007[00:47&lt;00:00]")) == (
        "runs: 100%|██████████| 4/4 [00:47<00:00]"
    )
    assert site_build.progress_text("box", bar(2.0, "")).count("█") == 5
    slider_box = {"box": {"model_name": "VBoxModel", "state": {"children": []}}}
    assert site_build.progress_text("box", slider_box) is None  # an explorer: the page says it needs a kernel
    assert site_build.progress_text("missing", {}) is None


def test_a_lesson_page_renders_offline_with_alt_text(tmp_path):
    pytest.importorskip("nbconvert")
    pytest.importorskip("jupyter_server_mathjax", reason="in the dev extra: `make install`")

    def has_math(nb):
        return any(re.search(r"\$[^$\n]+\$", "".join(c["source"])) for c in nb["cells"] if c["cell_type"] == "markdown")

    def has_widgets(nb):
        return any(WIDGET_VIEW in o.get("data", {}) for c in code_cells(nb) for o in c.get("outputs", []))

    # The lesson with the most figures among those with math and widget outputs: every check has work to do.
    candidates = [p for p in LESSONS if has_math(notebook(p)) and has_widgets(notebook(p))]
    lesson = max(candidates, key=lambda p: sum(figure_count(c) for c in code_cells(notebook(p))))
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "site_build.py"), str(site), str(lesson)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    page = site / f"{lesson.stem}.html"
    assert offline_problems(page) == []
    figures = [a for t, a in Tags(page.read_text(encoding="utf-8")).tags if a.get("src", "").startswith("data:image")]
    assert [a["alt"] for a in figures] == [alt for c in code_cells(notebook(lesson)) for alt in alt_texts(c)]

    # The same lesson through stock nbconvert (what `make html` ran before) fails the checks: they can fail.
    old = tmp_path / "stock"
    subprocess.run(
        [sys.executable, "-m", "nbconvert", "--to", "html", "--output-dir", str(old), str(lesson)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    problems = "\n".join(offline_problems(old / f"{lesson.stem}.html"))
    assert "<script> loads https://cdnjs" in problems and "unpkg.com" in problems and "<img> without alt" in problems
