"""Write the README's lesson table (badges, time, what each teaches) from the notebooks themselves.

`python tools/lesson_table.py` prints it; `--write` replaces the block between the markers in README.md;
`--check` exits 1 when README.md is out of date (the tests run this).
"""

import argparse
import json
import math
import re
import sys
from datetime import datetime
from pathlib import Path

from kdcourse import REF, REPO

ROOT = Path(__file__).resolve().parents[1]

START, END = "<!-- lessons:start -->", "<!-- lessons:end -->"


def colab_url(path: str) -> str:
    return f"https://colab.research.google.com/github/{REPO}/blob/{REF}/{path}"


def stored_profile(nb: dict) -> str:
    """The profile named in the setup cell's stored output: which run produced the stored outputs."""
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            text = "".join("".join(o.get("text", "")) for o in cell.get("outputs", []))
            found = re.search(r"\| profile (\w+):", text)
            return f"`{found.group(1)}`" if found else "not run"
    return "not run"


WORDS_PER_MINUTE = 200
MINUTES_PER_EXERCISE = 3


def _stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def run_seconds(nb: dict) -> float:
    """Wall time of the stored top-to-bottom run: first cell started to last cell finished (nbclient stamps)."""
    starts, ends = [], []
    for cell in nb["cells"]:
        stamps = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in stamps and "shell.execute_reply" in stamps:
            starts.append(_stamp(stamps["iopub.execute_input"]))
            ends.append(_stamp(stamps["shell.execute_reply"]))
    return (max(ends) - min(starts)).total_seconds() if starts else 0.0


def minutes(nb: dict) -> dict:
    """Time estimate: reading (words / 200 wpm) + the stored run's cell time + 3 min per exercise."""
    words = sum(len("".join(c["source"]).split()) for c in nb["cells"] if c["cell_type"] == "markdown")
    exercises = sum(
        len(re.findall(r"^\*\*\d\d\.\d\*\*", "".join(c["source"]), re.M))
        for c in nb["cells"]
        if c["cell_type"] == "markdown"
    )
    parts = {
        "read": words / WORDS_PER_MINUTE,
        "run": run_seconds(nb) / 60,
        "exercises": exercises * MINUTES_PER_EXERCISE,
    }
    return {**{k: round(v) for k, v in parts.items()}, "total": math.ceil(sum(parts.values()))}


def table() -> str:
    rows = ["| lesson | open | time | what it teaches | stored outputs |", "|---|---|---|---|---|"]
    for nb_path in sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(nb_path.read_text())
        meta = nb["metadata"].get("kdcourse", {})
        title = re.sub(r"^#\s*", "", "".join(nb["cells"][0]["source"]).splitlines()[0]).strip()
        rel = nb_path.relative_to(ROOT).as_posix()
        badge = f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab_url(rel)})"
        t = minutes(nb)
        rows.append(
            f"| [{title}]({rel}) | {badge} | {t['total']} min (read {t['read']}, run {t['run']}, "
            f"exercises {t['exercises']}) | "
            f"{meta.get('teaches', '')} | {stored_profile(nb)} |"
        )
    return "\n".join(rows)


def readme_with_table(text: str) -> str:
    if START not in text or END not in text:
        raise SystemExit(f"README.md lacks the markers {START} ... {END}")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table()}\n{END}{tail}"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    readme = ROOT / "README.md"
    if args.write:
        readme.write_text(readme_with_table(readme.read_text()))
    elif args.check:
        if readme_with_table(readme.read_text()) != readme.read_text():
            print("README.md's lesson table is out of date: run `make readme`")
            sys.exit(1)
    else:
        print(table())
