"""The GitHub workflows (.github/workflows): valid against their schema, and they run what this repository has.

`make lint` validates them with check-jsonschema's GitHub-workflow schema (offline); these tests add what a
schema cannot know: every make target a workflow calls exists, the release publishes by trusted publishing
only from a version tag, and the lint checks the pre-commit hook runs are the ones `make lint` runs.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def _load(path):
    return yaml.safe_load(path.read_text())


def _steps(workflow):
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def _phony_targets():
    text = (ROOT / "Makefile").read_text()
    return set(re.search(r"^\.PHONY:(.*)$", text, re.M)[1].split())


def test_there_is_a_ci_and_a_release_workflow():
    assert {p.name for p in WORKFLOWS} == {"ci.yml", "release.yml"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_make_target_a_workflow_runs_exists(path):
    runs = " ".join(step.get("run", "") for step in _steps(_load(path)))
    called = set(re.findall(r"\bmake ([a-z][a-z-]*)", runs))
    assert called, f"{path.name} runs no make target"
    assert called <= _phony_targets(), f"{path.name} calls {sorted(called - _phony_targets())}, not in the Makefile"


def test_ci_runs_lint_the_unit_tests_on_two_pythons_and_the_lessons():
    ci = _load(ROOT / ".github" / "workflows" / "ci.yml")
    runs = " ".join(step.get("run", "") for step in _steps(ci))
    for target in ("make lint", "make test-unit", "make test-lessons"):
        assert target in runs, target
    pythons = ci["jobs"]["unit"]["strategy"]["matrix"]["python-version"]
    floor = re.search(r'requires-python = ">=(\d+\.\d+)"', (ROOT / "pyproject.toml").read_text())[1]
    assert floor in pythons and len(pythons) >= 2, pythons


def test_release_runs_on_a_version_tag_and_publishes_by_trusted_publishing():
    release = _load(ROOT / ".github" / "workflows" / "release.yml")
    on = release.get("on", release.get(True))  # YAML 1.1 reads a bare `on` key as True
    assert on == {"push": {"tags": ["v*"]}}
    jobs = release["jobs"]
    publish = jobs["publish"]
    assert publish["permissions"] == {"id-token": "write"}, "trusted publishing: an OIDC token, no password"
    assert any(s.get("uses", "").startswith("pypa/gh-action-pypi-publish@") for s in publish["steps"])
    assert not any("password" in (s.get("with") or {}) for s in publish["steps"])
    runs = " ".join(step.get("run", "") for step in jobs["build"]["steps"])
    assert "tools/release.py" in runs and "GITHUB_REF_NAME" in runs, "the tag must match the version"
    assert "python -m build" in runs and "twine check" in runs
    assert "make html" in " ".join(step.get("run", "") for step in jobs["pages"]["steps"])
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in jobs["deploy-pages"]["steps"])


def test_ruff_in_dev_is_the_pre_commit_hooks_version():
    hook = re.search(r"ruff-pre-commit\s+rev: v(\S+)", (ROOT / ".pre-commit-config.yaml").read_text())[1]
    dev = re.search(r'"ruff==([^"]+)"', (ROOT / "pyproject.toml").read_text())[1]
    assert hook == dev, f"pre-commit runs ruff {hook}, `make lint` ruff {dev}: they would format differently"


def test_the_schema_check_fails_on_a_broken_workflow(tmp_path):
    """The linter `make lint` runs is not a formality: a job without `runs-on` and a bad trigger are refused."""
    tool = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    if tool is None:
        pytest.skip("check-jsonschema is in the dev extra (make lint); this env has only the runtime dependencies")
    bad = tmp_path / "bad.yml"
    bad.write_text("name: bad\non: {pushh: {}}\njobs:\n  x:\n    steps:\n      - run: make lint\n")
    done = subprocess.run([tool, "--builtin-schema", "vendor.github-workflows", str(bad)], capture_output=True)
    assert done.returncode != 0
    good = subprocess.run(
        [tool, "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)], capture_output=True
    )
    assert good.returncode == 0, good.stdout.decode()[-800:]
