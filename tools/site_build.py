"""Render the lessons as static pages that work with no network (`make html`), then site_index.py links them.

`python tools/site_build.py _site [lessons/NN_name.ipynb ...]` (default: every lesson) writes _site/NN_name.html
with the stored outputs, as `jupyter nbconvert --to html` does, except that a page loads nothing from a CDN:

- math: MathJax 2.7 from the jupyter-server-mathjax package (the dev extra), copied to _site/mathjax/ and loaded
  by a relative URL, so the folder can be copied to a classroom without internet;
- widgets: no widget state and no widget manager (nbconvert's page would fetch it from unpkg). A progress bar
  shows the line it ended at; an interactive widget says it needs a running kernel. Each lesson follows its
  widgets with a static figure of the same view;
- figures: every image gets the alt text written in its cell's metadata (`kdcourse.alt`, one string per
  figure, in order; tests/test_site.py checks every lesson has them).

The Colab badge at the top of each lesson is an external image: offline it shows its alt text, "Open In Colab".
"""

import html
import re
import shutil
import sys
from importlib.util import find_spec
from pathlib import Path

from jinja2 import DictLoader
from nbconvert import HTMLExporter
from nbconvert.preprocessors import Preprocessor
from nbformat.v4 import new_output

ROOT = Path(__file__).resolve().parents[1]
MATHJAX_DIR = "mathjax"  # beside the pages
MATHJAX_URL = f"{MATHJAX_DIR}/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"  # the package's own config
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
KERNEL_NOTE = (
    "<p><em>Interactive widget: it runs only with a live Python kernel. Open the notebook in Jupyter or Colab "
    "to use it.</em></p>"
)

# nbconvert's lab page, minus every script it would fetch from a CDN: require.js (only the widget manager needs
# it), the widget manager, and mermaid (no lesson has a diagram). MathJax comes from MATHJAX_URL with the fonts
# the package ships (STIX-Web; its default, TeX, is not in the package). Figures get their alt text.
TEMPLATE = r"""{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_js_mathjax -%}
{{ super() }}
<script type="text/x-mathjax-config">
MathJax.Hub.Config({"HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null}});
</script>
{%- endblock html_head_js_mathjax -%}
{% block data_png scoped %}
{%- set alt = output | get_metadata('alt', 'image/png') -%}
{{ super() | replace('<img ', '<img alt="' ~ (alt | escape_html) ~ '" ', 1) }}
{%- endblock data_png %}
"""


def mathjax_source() -> Path:
    """The MathJax files of the installed jupyter-server-mathjax, found without importing it."""
    spec = find_spec("jupyter_server_mathjax")
    if spec is None or spec.origin is None:
        raise SystemExit("jupyter-server-mathjax is not installed: `make install` (it is in the dev extra)")
    return Path(spec.origin).parent / "static"


def progress_text(model_id: str, state: dict) -> str | None:
    """The text a tqdm bar ended at ("desc: 100%|██████████| 2/2 [00:47<00:00, 23.57s/it]"), or None when
    the widget is not one (tqdm's notebook bar: an HBox of an HTML, a FloatProgress and an HTML)."""
    box = state.get(model_id, {})
    children = [state.get(c.removeprefix("IPY_MODEL_"), {}) for c in box.get("state", {}).get("children", [])]
    kinds = [c.get("model_name") for c in children]
    if box.get("model_name") != "HBoxModel" or kinds != ["HTMLModel", "FloatProgressModel", "HTMLModel"]:
        return None
    left, bar, right = (c.get("state", {}) for c in children)
    span = (bar.get("max", 100.0) - bar.get("min", 0.0)) or 1.0
    filled = max(0, min(10, round(10 * (bar.get("value", 0.0) - bar.get("min", 0.0)) / span)))
    text = f"{left.get('value', '')}|{'█' * filled}{' ' * (10 - filled)}|{right.get('value', '')}"
    return html.unescape(re.sub(r"<[^>]*>", "", text)).replace("\u2007", " ")


class StaticWidgets(Preprocessor):
    """Replace widget outputs by what a page without a kernel can show, and drop the embedded widget state."""

    def preprocess(self, nb, resources):
        state = nb.metadata.pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = [
                    static_output(o, state) if WIDGET_VIEW in o.get("data", {}) else o for o in cell.outputs
                ]
        return nb, resources


def static_output(output, state: dict) -> dict:
    """One widget output as a plain output: a finished progress bar's text, or a note."""
    text = progress_text(output["data"][WIDGET_VIEW].get("model_id", ""), state)
    data = {"text/plain": text} if text is not None else {"text/html": KERNEL_NOTE}
    return new_output("display_data", data=data)


class AltText(Preprocessor):
    """Give each figure its alt text from the cell's metadata; a figure without one stops the build."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        figures = [o for o in cell.outputs if "image/png" in o.get("data", {})]
        alts = cell.metadata.get("kdcourse", {}).get("alt", [])
        if len(alts) != len(figures) or not all(isinstance(a, str) and a.strip() for a in alts):
            name = resources.get("metadata", {}).get("name", "a lesson")
            raise ValueError(
                f"{name}, cell {index}: {len(figures)} figure(s) but {len(alts)} alt text(s); write one short "
                'description per figure in the cell\'s metadata: {"kdcourse": {"alt": ["...", ...]}}'
            )
        for output, alt in zip(figures, alts):
            output.setdefault("metadata", {}).setdefault("image/png", {})["alt"] = alt
        return cell, resources


def exporter() -> HTMLExporter:
    """nbconvert's HTML exporter with the offline template, local MathJax and the two preprocessors."""
    html_exporter = HTMLExporter(
        extra_loaders=[DictLoader({"kdcourse_site.html.j2": TEMPLATE})],
        template_file="kdcourse_site.html.j2",
        mathjax_url=MATHJAX_URL,
    )
    html_exporter.register_preprocessor(StaticWidgets(), enabled=True)
    html_exporter.register_preprocessor(AltText(), enabled=True)
    return html_exporter


def build(site: Path, notebooks: list[Path]) -> list[Path]:
    """Write one page per notebook into `site` and MathJax beside them; returns the pages."""
    site.mkdir(parents=True, exist_ok=True)
    shutil.copytree(mathjax_source(), site / MATHJAX_DIR, dirs_exist_ok=True)
    html_exporter = exporter()
    pages = []
    for notebook in notebooks:
        body, _ = html_exporter.from_filename(str(notebook))
        page = site / f"{notebook.stem}.html"
        page.write_text(body, encoding="utf-8")
        pages.append(page)
    return pages


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit("usage: python tools/site_build.py SITE_FOLDER [NOTEBOOK ...]")
    notebooks = [Path(p) for p in sys.argv[2:]] or sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
    for page in build(Path(sys.argv[1]), notebooks):
        print(page)
    print(f"MathJax in {Path(sys.argv[1]) / MATHJAX_DIR}")
