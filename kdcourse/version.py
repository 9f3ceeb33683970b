"""The course's version and repository: what a Colab badge opens and an install cell installs."""

# The one place for the version (pyproject.toml reads it, kdcourse re-exports it) and the repository. A
# lesson's Colab badge opens, and its install cell installs, REF: the release tag of this version, so a
# lesson always runs the package it was written for; a development version (".dev") has no tag yet and uses main.
# tools/release.py writes them into the lessons, README, CITATION.cff; tests/test_release.py checks.
__version__ = "0.2.0"
REPO = "kdcourse/kdcourse"  # GitHub owner/name
REF = "main" if ".dev" in __version__ else f"v{__version__}"
