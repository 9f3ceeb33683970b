"""Lesson 07 on a plain `pip install kdcourse` (no ONNX Runtime): it runs to the end on PyTorch alone,
says what is missing and how to install it, and leaves the ONNX rows out instead of failing."""

import json
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

LESSON = Path(__file__).resolve().parents[1] / "lessons" / "07_deploy_and_frontier.ipynb"


def test_lesson_07_runs_without_onnx_runtime():
    nb = nbformat.read(LESSON, as_version=4)
    hide = "import sys\nsys.modules['onnxruntime'] = None  # as if it were not installed"
    nb.cells.insert(0, nbformat.v4.new_code_cell(hide))
    nbclient.NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(LESSON.parent)}}
    ).execute()  # raises CellExecutionError, naming the cell, if any cell fails
    ran = [cell for cell in nb.cells if cell.cell_type == "code" and "deploy.json" not in cell.source]
    text = json.dumps([o for cell in ran for o in cell.outputs])  # (the benchmark's stored file quotes ONNX)
    assert "missing onnxruntime" in text and "kdcourse[deploy]" in text, "the lesson says what to install"
    assert "onnx fp32" not in text and "onnx int8" not in text, "no ONNX rows without ONNX Runtime"
    assert "torch int8" in text, "the PyTorch rows are all there"
