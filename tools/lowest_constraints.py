"""Print pip constraints that pin every direct dependency of the course to its declared lower bound.

`make test-lowest` installs the course against these, so each `>=` in pyproject.toml is a version the
tests have actually run on. torch is left out: PyPI's Linux torch wheels bundle CUDA (gigabytes), so
that env keeps the CPU torch `make` picks (tools/torch_spec.py); README says which torch was tested.
With --build it prints the build requirements' floors instead (setuptools), for pip's
--build-constraint: they hold the isolated build env only (torch itself needs a newer setuptools).
With --installed it prints what the running env holds of each, torch included (`make test-lowest`).
"""

import re
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest's own dependency tomli is the same parser
    try:
        import tomli as tomllib
    except ModuleNotFoundError:
        sys.exit("tools/lowest_constraints.py needs Python >= 3.11 or tomli; run it with the .venv's python")

SKIP = {"torch"}
EXTRAS = ("static",)  # extras the lowest env installs too (`make test-lowest`), so their floors are proven
ROOT = Path(__file__).resolve().parents[1]


def floors(pyproject: Path = ROOT / "pyproject.toml", build: bool = False) -> dict[str, str]:
    """name -> lower bound of every runtime dependency and of EXTRAS' (or, build=True, of the build's); each
    must be 'name>=version'."""
    out = {}
    table = tomllib.loads(pyproject.read_text())
    project = table["project"]
    extras = [line for name in EXTRAS for line in project["optional-dependencies"][name]]
    for line in table["build-system"]["requires"] if build else project["dependencies"] + extras:
        match = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*>=\s*([0-9][0-9A-Za-z.]*)\s*", line)
        if match is None:
            sys.exit(f"pyproject.toml: {line!r} is not 'name>=version'; the lowest-versions env cannot pin it")
        out[match[1].lower()] = match[2]
    return out


if __name__ == "__main__":
    if "--installed" in sys.argv:
        from importlib.metadata import version

        names = list(floors())  # torch too: the CPU build the env keeps
        print("Lowest versions:", " | ".join(f"{name} {version(name)}" for name in names))
        sys.exit()
    for name, version in floors(build="--build" in sys.argv).items():
        if name not in SKIP:
            print(f"{name}=={version}")
