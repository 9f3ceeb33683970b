"""The widget modules (kdcourse.viz.widget, .explorers, .playground, .kl_direction) use only standard
ipywidgets, so they render in JupyterLab, Notebook 7, VS Code and Colab without a custom widget
manager; run in both envs (`make test`, `make test-colab`: ipywidgets 8.x and 7.7.1), this checks
every class they name exists in the installed ipywidgets with a standard view."""

import ast
import sys
from pathlib import Path

import ipywidgets

PACKAGE = Path(__file__).resolve().parents[1] / "kdcourse"
SOURCES = [PACKAGE / "viz" / f"{name}.py" for name in ("widget", "explorers", "playground", "kl_direction")]
# Front-end packages every widget manager ships (JupyterLab, Notebook 7, VS Code, Colab).
STANDARD_MODULES = {"@jupyter-widgets/controls", "@jupyter-widgets/base", "@jupyter-widgets/output"}
# Besides the standard library: no third-party widget or plotting front-end (ipympl, anywidget, plotly ...).
ALLOWED_PACKAGES = {
    "ipywidgets",
    "IPython",
    "matplotlib",
    "torch",
    "numpy",
    "PIL",
    "transformers",
    "datasets",
    "kdcourse",
}


def _tree():
    """All widget modules as one tree."""
    return ast.Module(body=[node for source in SOURCES for node in ast.parse(source.read_text()).body], type_ignores=[])


def _ipywidgets_names(tree) -> set[str]:
    """Attributes taken from ipywidgets, through `import ipywidgets as X` or `from ipywidgets import`."""
    aliases, names = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases |= {a.asname or a.name for a in node.names if a.name == "ipywidgets"}
        elif isinstance(node, ast.ImportFrom) and node.module == "ipywidgets":
            names |= {a.name for a in node.names}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            names.add(node.attr)
    return names


def test_widgets_import_no_third_party_widget_library():
    modules = set()
    for node in ast.walk(_tree()):
        if isinstance(node, ast.Import):
            modules |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            modules.add(node.module)
    strange = {
        m for m in modules if m.split(".")[0] not in ALLOWED_PACKAGES and m.split(".")[0] not in sys.stdlib_module_names
    }
    assert not strange, f"the widget modules import {sorted(strange)}: only standard ipywidgets are allowed"


def test_every_ipywidgets_class_used_is_standard_in_this_version():
    names = _ipywidgets_names(_tree())
    assert names, "the widget modules use no ipywidgets at all?"
    for name in sorted(names):
        assert hasattr(ipywidgets, name), f"ipywidgets {ipywidgets.__version__} has no {name}"
        cls = getattr(ipywidgets, name)
        if isinstance(cls, type) and issubclass(cls, ipywidgets.Widget):
            module = cls._view_module.default_value or cls._model_module.default_value
            assert module in STANDARD_MODULES, f"ipywidgets.{name} needs the front-end package {module}"
