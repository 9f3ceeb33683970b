"""One list of dependencies: pyproject.toml. environment.yml (conda-forge names) and the environment
check of lesson 00 (kdcourse.environment, which reads the installed metadata) must agree with it."""

import re
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from kdcourse import environment

tomllib = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"pytorch": "torch"}  # conda-forge name -> PyPI name, where they differ
CONDA_ONLY = {"python", "pip"}
PIP_ONLY = {"playwright", "torchao"}  # dev-only; the conda env runs the lessons without them
PIP_SECTION = {"model2vec", "skeletoken", "scikit-learn"}  # environment.yml's pip: section (skeletoken: PyPI only)


def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def conda_requirements() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    out = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):  # the pip: section
            continue
        name, spec = re.match(r"([A-Za-z0-9_.-]+)\s*(.*)", dep).groups()
        if name not in CONDA_ONLY:
            out[CONDA_NAMES.get(name, name)] = spec.replace(" ", "")
    return out


def test_environment_yml_has_every_dependency_with_the_same_lower_bound():
    project = pyproject()
    wanted = {}
    for text in project["dependencies"] + project["optional-dependencies"]["dev"]:
        req = Requirement(text)
        if req.name not in PIP_ONLY | PIP_SECTION:
            wanted[req.name] = str(req.specifier)
    assert conda_requirements() == wanted
    pip_section = next(
        d for d in yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"] if isinstance(d, dict)
    )["pip"]
    assert {str(Requirement(t)) for t in pip_section if not t.startswith("-e")} == {
        str(Requirement(t)) for t in project["optional-dependencies"]["static"]
    }


def test_environment_yml_uses_conda_forge_only():
    channels = yaml.safe_load((ROOT / "environment.yml").read_text())["channels"]
    assert channels == ["conda-forge", "nodefaults"]


def test_the_environment_check_reads_pyproject_s_list():
    declared = {Requirement(t).name: str(Requirement(t).specifier) for t in pyproject()["dependencies"]}
    installed = {r.name: str(r.specifier) for r in environment.requirements()}
    assert installed == declared, "reinstall the package (`make install`) after editing pyproject.toml"
    assert set(environment.PURPOSES) == set(declared), "say in PURPOSES what each dependency is for"


def test_every_runtime_dependency_has_a_floor_the_lowest_env_pins():
    sys.path.insert(0, str(ROOT / "tools"))
    import lowest_constraints

    floors = lowest_constraints.floors()
    extras = [t for name in lowest_constraints.EXTRAS for t in pyproject()["optional-dependencies"][name]]
    assert set(floors) == {Requirement(t).name for t in pyproject()["dependencies"] + extras}
    assert lowest_constraints.floors(build=True) == {"setuptools": "77.0.3"}
    makefile = (ROOT / "Makefile").read_text()
    assert "$(MAKE) test-lowest" in makefile and "--build-constraint" in makefile
