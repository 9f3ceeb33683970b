"""Write index.html for the exported course (`make html`): every lesson, its time and what it teaches.

`python tools/site_index.py _site` writes _site/index.html linking to the NN_name.html pages that
`python tools/site_build.py _site` rendered beside it.
"""

import html
import json
import re
import sys
from pathlib import Path

# The README table's measured estimate; tools/ is on sys.path when this script runs.
from lesson_table import minutes

from kdcourse import REF, REPO

ROOT = Path(__file__).resolve().parents[1]

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kdcourse: knowledge distillation of language models</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; padding: .5rem; border-bottom: 1px solid #ddd; vertical-align: top; }}
td:nth-child(2), td:nth-child(4) {{ white-space: nowrap; }}
</style>
</head>
<body>
<h1>kdcourse — knowledge distillation of language models</h1>
<p>Every lesson below is shown with the outputs of one real run in the <code>cpu</code> profile.
Run them yourself from the <a href="https://github.com/{repo}">repository</a> or on Colab.</p>
<table>
<thead><tr><th>lesson</th><th>time</th><th>what it teaches</th><th>run it</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</body>
</html>
"""


def lessons(folder: Path = ROOT / "lessons") -> list[dict]:
    """Title, page, minutes and topics of every lesson notebook, in order."""
    found = []
    for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text())
        meta = nb["metadata"].get("kdcourse", {})
        title = re.sub(r"^#\s*", "", "".join(nb["cells"][0]["source"]).splitlines()[0]).strip()
        found.append(
            {
                "title": title,
                "page": f"{path.stem}.html",
                "notebook": path.name,
                "minutes": minutes(nb)["total"],
                "teaches": meta.get("teaches", ""),
            }
        )
    return found


def index_html(entries: list[dict]) -> str:
    """The index page as a string."""
    rows = []
    for e in entries:
        colab = f"https://colab.research.google.com/github/{REPO}/blob/{REF}/lessons/{e['notebook']}"
        rows.append(
            f'<tr><td><a href="{html.escape(e["page"])}">{html.escape(e["title"])}</a></td>'
            f"<td>{html.escape(str(e['minutes']))} min</td><td>{html.escape(e['teaches'])}</td>"
            f'<td><a href="{html.escape(colab)}">Colab</a></td></tr>'
        )
    return PAGE.format(repo=REPO, rows="\n".join(rows))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python tools/site_index.py SITE_FOLDER")
    site = Path(sys.argv[1])
    entries = lessons()
    missing = [e["page"] for e in entries if not (site / e["page"]).exists()]
    if missing:
        raise SystemExit(f"{site} lacks {', '.join(missing)}: run `make html` (nbconvert renders them)")
    (site / "index.html").write_text(index_html(entries))
    print(f"{site / 'index.html'}: {len(entries)} lessons")
