"""The course's repository and release tag, written everywhere they appear, from kdcourse.REPO / REF.

`python tools/release.py` lists every place that disagrees with kdcourse/version.py (exit 1 if any);
`python tools/release.py --write` rewrites them: each lesson's Colab badge and Colab install cell,
the README's lesson table and clone line, CITATION.cff's version and repository. How to cut a release:
README, "Releases".
"""

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from kdcourse import REF, REPO, __version__  # noqa: E402

BADGE = re.compile(r"https://colab\.research\.google\.com/github/[^/\s)]+/[^/\s)]+/blob/[^/\s)]+/lessons/")
INSTALL = re.compile(
    r'"(kdcourse(?:-solutions)?(?:\[[a-z,]+\])?) @ git\+https://github\.com/[^"@\s#]+(?:@[^"\s#]+)?(#subdirectory=\w+)?"'
)


def badge(_=None) -> str:
    return f"https://colab.research.google.com/github/{REPO}/blob/{REF}/lessons/"


def install(match) -> str:
    return f'"{match[1]} @ git+https://github.com/{REPO}@{REF}{match[2] or ""}"'


def lesson_fixes(path: Path) -> tuple[dict, list[str]]:
    """(the notebook with badge and install lines set to REPO/REF, what changed)."""
    nb = json.loads(path.read_text())
    changed = []
    for index, cell in enumerate(nb["cells"]):
        old = "".join(cell["source"])
        new = INSTALL.sub(install, BADGE.sub(badge, old))
        if new != old:
            cell["source"] = new.splitlines(keepends=True)
            changed.append(f"{path.relative_to(ROOT)} cell {index}: Colab badge or install line")
    return nb, changed


def text_fixes() -> dict[Path, str]:
    """README's clone line and CITATION.cff, as they should read."""
    out = {}
    readme = ROOT / "README.md"
    out[readme] = re.sub(
        r"git clone https://github\.com/\S+", f"git clone https://github.com/{REPO}", readme.read_text()
    )
    cff = ROOT / "CITATION.cff"
    text = re.sub(r"(?m)^version: .*$", f"version: {__version__}", cff.read_text())
    out[cff] = re.sub(r"(?m)^repository-code: .*$", f'repository-code: "https://github.com/{REPO}"', text)
    return out


def problems() -> list[str]:
    """Every place that does not say REPO / REF / __version__ (empty when all agree)."""
    found = []
    for path in sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb")):
        text = path.read_text()
        found += lesson_fixes(path)[1]
        if badge() + path.name not in text:
            found.append(f"{path.relative_to(ROOT)}: no Colab badge for {badge()}{path.name}")
        if f"git+https://github.com/{REPO}@{REF}" not in text:
            found.append(f"{path.relative_to(ROOT)}: no install cell for {REPO}@{REF}")
        if f"git+https://github.com/{REPO}@{REF}#subdirectory=solutions" not in text:
            found.append(f"{path.relative_to(ROOT)}: its install cell does not install kdcourse-solutions")
    solutions = re.search(r'__version__ = "([^"]+)"', (ROOT / "solutions/kdcourse_solutions/__init__.py").read_text())
    if solutions is None or solutions[1] != __version__:
        found.append(f"solutions/kdcourse_solutions/__init__.py: __version__ is not {__version__}")
    for path, want in text_fixes().items():
        if path.read_text() != want:
            found.append(f"{path.relative_to(ROOT)}: repository or version differs")
    table = subprocess.run([sys.executable, str(ROOT / "tools" / "lesson_table.py"), "--check"], capture_output=True)
    if table.returncode != 0:
        found.append("README.md lesson table or a lesson's **Time:** line is stale (tools/lesson_table.py --check)")
    return found


def write() -> None:
    for path in sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb")):
        nb, changed = lesson_fixes(path)
        if changed:
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    for path, text in text_fixes().items():
        path.write_text(text)
    subprocess.run([sys.executable, str(ROOT / "tools" / "lesson_table.py"), "--write"], check=True)


if __name__ == "__main__":
    if "--write" in sys.argv:
        write()
    left = problems()
    for line in left:
        print(line, file=sys.stderr)
    print(f"kdcourse {__version__}: {REPO}@{REF}" + (f", {len(left)} places disagree" if left else ", everywhere"))
    sys.exit(1 if left else 0)
