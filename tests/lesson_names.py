"""What a lesson defines before an exercise cell, and what a worked solution needs: read from the notebook."""

import ast
import builtins
import json
import re
from pathlib import Path

LESSONS = Path(__file__).resolve().parents[1] / "lessons"


def _code(cell) -> str:
    """A code cell's source as Python: IPython magics and shell lines become `pass`."""
    lines = "".join(cell["source"]).splitlines()
    return "\n".join(re.sub(r"^(\s*)[%!].*$", r"\1pass", line) for line in lines)


def defined_names(code: str) -> set[str]:
    """Every name a piece of code binds: assignments, loop and with targets, defs, classes, imports."""
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def free_names(code: str) -> set[str]:
    """Names the code reads but neither binds nor gets from builtins: the lesson must define them."""
    read = {n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return read - defined_names(code) - set(dir(builtins))


def names_before_exercise(notebook: str, checker: str) -> set[str]:
    """Names bound by the lesson's code cells up to and including the first cell that calls `checker(`."""
    cells = [
        c for c in json.loads((LESSONS / notebook).read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"
    ]
    names = set()
    for cell in cells:
        code = _code(cell)
        names |= defined_names(code)
        if re.search(rf"\b{re.escape(checker)}\(", code):
            return names
    raise AssertionError(f"lessons/{notebook}: no code cell calls {checker}(")
