"""Lesson-02 widgets driven headless (no browser): state, controls, redraws, fallback.

Uses only APIs that ipywidgets 7.7.1 (Colab) and 8.x share: .value, .observe, .children, .options.
"""

import builtins
import math

import pytest
import torch
import torch.nn.functional as F

from kdcourse import losses
from kdcourse.viz import explorers

TEXTS = ["a quietly devastating film", "a boring mess", "fine, if forgettable"]


@pytest.fixture
def logits():
    g = torch.Generator().manual_seed(0)
    return torch.randn(3, 2, generator=g) * 2, torch.randn(3, 2, generator=g)


@pytest.fixture
def batch():
    g = torch.Generator().manual_seed(1)
    return torch.randn(16, 2, generator=g), torch.randn(16, 2, generator=g) * 3, torch.randint(0, 2, (16,), generator=g)


def _entropy(p):
    return -sum(x * math.log2(x) for x in p if x > 0)


def test_temperature_explorer_state(logits):
    teacher, student = logits
    w = explorers.TemperatureExplorer(TEXTS, teacher, student, labels=[1, 0, 1], temperature=2.0, index=1)
    assert w.state["index"] == 1 and w.state["text"] == TEXTS[1]
    want = torch.softmax(teacher[1] / 2.0, -1).tolist()
    assert w.state["teacher_probs"] == pytest.approx(want, abs=1e-6)
    assert w.state["teacher_entropy"] == pytest.approx(_entropy(want), abs=1e-5)
    entropies = [w.set(temperature=T)["teacher_entropy"] for T in (0.2, 1.0, 3.0, 10.0)]
    assert entropies == sorted(entropies), "softening with T raises the entropy"
    assert entropies[-1] < 1.0 + 1e-9 and entropies[0] < 0.2
    assert w.set(index=2)["student_probs"] == pytest.approx(torch.softmax(student[2] / 10.0, -1).tolist(), abs=1e-6)
    assert "teacher entropy" in w.readout()


def test_loss_explorer_state_matches_losses(batch):
    s, t, y = batch
    w = explorers.LossExplorer(s, t, y, temperature=3.0, alpha=0.25)
    st = w.state
    assert st["soft"] == pytest.approx(losses.kd_loss(s, t, 3.0).item(), rel=1e-6)
    assert st["hard"] == pytest.approx(F.cross_entropy(s, y).item(), rel=1e-6)
    assert st["total"] == pytest.approx(0.25 * st["soft"] + 0.75 * st["hard"], rel=1e-6)
    # Independent gradient: T * (p_s - p_t) / N for the T²-scaled soft term.
    grad = 3.0 * (torch.softmax(s / 3.0, -1) - torch.softmax(t / 3.0, -1)) / len(s)
    assert st["grad_soft"] == pytest.approx(grad.norm().item(), rel=1e-5)
    assert st["grad_soft_no_t2"] == pytest.approx(st["grad_soft"] / 9.0, rel=1e-9)
    assert w.set(alpha=1.0)["total"] == pytest.approx(st["soft"], rel=1e-6)
    assert w.set(alpha=0.0)["total"] == pytest.approx(st["hard"], rel=1e-6)
    with_t2, without = w.grad_curves["with T²"], w.grad_curves["without T²"]
    # Without T² the soft gradient collapses as T grows; with T² it stays the same order.
    assert without[-1] / without[0] < 0.05 and 0.2 < with_t2[-1] / with_t2[0] < 5


def test_bad_values_are_refused(logits, batch):
    w = explorers.TemperatureExplorer(TEXTS, *logits)
    with pytest.raises(ValueError, match="temperature must be > 0, got -1"):
        w.set(temperature=-1)
    with pytest.raises(ValueError, match=r"index must be an int in \[0, 3\), got 5"):
        w.set(index=5)
    with pytest.raises(TypeError, match="unknown value"):
        w.set(alpha=0.3)
    with pytest.raises(ValueError, match="must agree"):
        explorers.TemperatureExplorer(TEXTS, logits[0], torch.zeros(3, 3))
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\], got 2"):
        explorers.LossExplorer(*batch).set(alpha=2)


def test_render_png_and_static_figures(logits, batch):
    import matplotlib.figure

    for w in (explorers.TemperatureExplorer(TEXTS, *logits), explorers.LossExplorer(*batch)):
        first = w.render_png()
        assert first[:8] == b"\x89PNG\r\n\x1a\n"
        key = "temperature"
        before = dict(w.state)
        fig = w.figure(**{key: 7.0})
        assert isinstance(fig, matplotlib.figure.Figure) and w.state == before, "figure() leaves state alone"
        w.set(**{key: 7.0})
        assert w.render_png() != first, "the picture follows the state"


def test_driven_through_controls(logits, batch):
    ipywidgets = pytest.importorskip("ipywidgets")
    w = explorers.TemperatureExplorer(TEXTS, *logits, labels=[1, 0, 1])
    box = w.widget()
    assert isinstance(box, ipywidgets.VBox)
    dropdown, slider, readout, image = box.children
    assert [value for _, value in dropdown.options] == [0, 1, 2]
    png = image.value
    slider.value = 5.0  # what a student's drag does
    assert w.state["temperature"] == 5.0 and image.value != png
    assert "T=5.00" in readout.value
    dropdown.value = 2
    assert w.state["index"] == 2 and w.state["text"] == TEXTS[2]
    w.set(temperature=0.5)  # code -> controls stay in sync
    assert slider.value == 0.5

    loss = explorers.LossExplorer(*batch)
    t_slider, a_slider, readout, image = loss.widget().children
    a_slider.value = 0.0
    assert loss.state["alpha"] == 0.0 and loss.state["total"] == pytest.approx(loss.state["hard"])
    t_slider.value = 4.0
    assert loss.state["temperature"] == 4.0 and f"soft {loss.state['soft']:.4f}" in readout.value


def test_fallback_without_ipywidgets(logits, monkeypatch, capsys):
    import matplotlib.figure

    real_import = builtins.__import__

    def no_ipywidgets(name, *args, **kwargs):
        if name == "ipywidgets" or name.startswith("ipywidgets."):
            raise ImportError("No module named 'ipywidgets'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ipywidgets)
    fig = explorers.TemperatureExplorer(TEXTS, *logits).show()
    assert isinstance(fig, matplotlib.figure.Figure)
    assert "ipywidgets is not installed" in capsys.readouterr().out
