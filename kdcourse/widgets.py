"""Interactive widgets of lesson 02 (temperature explorer, loss explorer) and the machinery they share.

Thin ipywidgets shells over kdcourse.panels figures. Every widget keeps its state in plain attributes
(so tests drive it headless) and each widget cell in a lesson is followed by a static figure. Lesson 03's
widget is in kdcourse.playground, lesson 06's in kdcourse.kl_direction.
"""
from __future__ import annotations


# --- Lesson 02: temperature explorer and loss explorer (engineer "losses") --------------------
# Both work on ipywidgets 7.7 (Colab) and 8.x: only FloatSlider, Dropdown, Label, Image, VBox and
# .observe(names="value") are used. No model runs in the redraw path: logits are precomputed.

class _one_thread:
    """Run torch on one thread inside the block: widget maths is on tiny tensors, where waking a
    thread pool costs more than the work (tens of ms on a busy machine)."""

    def __enter__(self):
        import torch

        self.threads = torch.get_num_threads()
        torch.set_num_threads(1)

    def __exit__(self, *exc):
        import torch

        torch.set_num_threads(self.threads)


def _entropy_bits(probs):
    """Entropy in bits along the last axis of a probability tensor."""
    import torch

    return -(probs * torch.log2(probs.clamp_min(1e-12))).sum(-1)


def _show(explorer):
    """Display explorer.widget(); without ipywidgets, return explorer.figure() (static) instead."""
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        print("ipywidgets is not installed: showing a static figure at the current values")
        return explorer.figure()
    from IPython.display import display

    display(explorer.widget())
    return None


class _Explorer:
    """Shared plumbing: a state dict, set(), controls kept in sync, blitted PNG redraws, static fallback."""

    controls: dict = {}

    def __init__(self):
        self.state: dict = {}
        self.controls_ = {}  # name -> ipywidget, filled by widget()
        self._image = self._readout = self._live = None
        self._syncing = False

    def set(self, **values) -> dict:
        """Change some values (e.g. temperature=4.0), recompute, redraw; returns the new state."""
        unknown = set(values) - set(self.controls)
        if unknown:
            raise TypeError(f"unknown value(s) {sorted(unknown)}; this widget has {sorted(self.controls)}")
        with _one_thread():
            self.state = self._compute(**{**{k: self.state.get(k) for k in self.controls}, **values})
        self._syncing = True
        try:
            for name, control in self.controls_.items():
                if control.value != self.state[name]:
                    control.value = self.state[name]
        finally:
            self._syncing = False
        if self._readout is not None:
            self._readout.value = self.readout()
        if self._image is not None:
            self._image.value = self.render_png()
        return self.state

    def render_png(self) -> bytes:
        """PNG of the current state: the static background is drawn once, changing artists are blitted."""
        import io

        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from PIL import Image

        if self._live is None:
            import matplotlib.pyplot as plt

            fig = self._draw(self.state, None, animated=True)
            plt.close(fig)  # never shown by the inline backend; we send PNG bytes ourselves
            canvas = FigureCanvasAgg(fig)
            canvas.draw()
            self._live = (fig, canvas, canvas.copy_from_bbox(fig.bbox))
        fig, canvas, background = self._live
        self._draw(self.state, fig)
        canvas.restore_region(background)
        for artist in fig._kd_artists["animated"]:
            fig.draw_artist(artist)
        buffer = io.BytesIO()
        Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0,
                         1).save(buffer, format="png", compress_level=1)
        return buffer.getvalue()

    def _on_change(self, change):
        if not self._syncing:
            name = next(n for n, c in self.controls_.items() if c is change["owner"])
            self.set(**{name: change["new"]})

    def widget(self):
        """The ipywidgets view: controls, a readout line and the figure (ipywidgets 7.7 and 8.x)."""
        import ipywidgets as w

        style = {"description_width": "initial"}
        for name, spec in self.controls.items():
            if spec[0] == "slider":
                _, lo, hi, step, label = spec
                self.controls_[name] = w.FloatSlider(value=self.state[name], min=lo, max=hi, step=step,
                                                     description=label, style=style,
                                                     continuous_update=False)
            else:
                self.controls_[name] = w.Dropdown(options=self._options(), value=self.state[name],
                                                  description=spec[1], style=style,
                                                  layout=w.Layout(width="95%"))
            self.controls_[name].observe(self._on_change, names="value")
        self._readout = w.Label(value=self.readout())
        self._image = w.Image(value=self.render_png(), format="png")
        return w.VBox([*self.controls_.values(), self._readout, self._image])

    def readout(self) -> str:
        """One line of the current numbers (shown under the controls)."""
        return ""

    def show(self):
        """Display the widget; without ipywidgets, return the static figure at the current values."""
        return _show(self)

    def figure(self, **values):
        """A new static figure at the current values, or at the given ones; the state is untouched."""
        return self._draw(self._compute(**{**{k: self.state[k] for k in self.controls}, **values}), None)


class TemperatureExplorer(_Explorer):
    """Pick a real review and a temperature: teacher and student probabilities softened by T, entropy vs T."""

    controls = {"index": ("dropdown", "review"),
                "temperature": ("slider", 0.1, 10.0, 0.1, "temperature T")}

    def __init__(self, texts, teacher_logits, student_logits, labels=None, class_names=("rotten", "fresh"),
                 temperature: float = 2.0, index: int = 0):
        import numpy as np
        import torch

        super().__init__()
        self.texts = [str(t) for t in texts]
        logits = {"teacher": teacher_logits, "student": student_logits}
        for name, value in logits.items():
            if not isinstance(value, torch.Tensor) or value.dim() != 2 or len(value) != len(self.texts):
                raise ValueError(f"{name}_logits must be a (len(texts), classes) tensor, got "
                                 f"{getattr(value, 'shape', type(value).__name__)} for {len(self.texts)} texts")
        if teacher_logits.shape != student_logits.shape or teacher_logits.shape[1] != len(class_names):
            raise ValueError(f"teacher {tuple(teacher_logits.shape)}, student {tuple(student_logits.shape)} "
                             f"and {len(class_names)} class names must agree")
        self.logits = {k: v.detach().float().cpu() for k, v in logits.items()}
        self.labels, self.class_names = labels, tuple(class_names)
        self.grid = np.geomspace(0.1, 10.0, 60)
        grid = torch.tensor(self.grid, dtype=torch.float32)[:, None, None]
        # Entropy of every review at every grid temperature, once: redraws only index into it.
        self.entropy_grid = {k: _entropy_bits(torch.softmax(v[None] / grid, -1)).T.numpy()
                             for k, v in self.logits.items()}
        self.set(index=index, temperature=temperature)

    def _options(self):
        import textwrap

        tag = (lambda i: f"[{self.class_names[self.labels[i]]}] ") if self.labels is not None else (lambda i: "")
        return [(tag(i) + textwrap.shorten(t, 90, placeholder=" …"), i) for i, t in enumerate(self.texts)]

    def _compute(self, index, temperature) -> dict:
        from .losses import soft_targets

        if not isinstance(index, int) or not 0 <= index < len(self.texts):
            raise ValueError(f"index must be an int in [0, {len(self.texts)}), got {index!r}")
        state = {"index": index, "temperature": float(temperature), "text": self.texts[index]}
        for name, logits in self.logits.items():
            probs = soft_targets(logits[index:index + 1], temperature)[0]
            state[f"{name}_probs"] = [round(float(p), 6) for p in probs]
            state[f"{name}_probs_at_1"] = [float(p) for p in soft_targets(logits[index:index + 1], 1.0)[0]]
            state[f"{name}_entropy"] = float(_entropy_bits(probs))
        return state

    def readout(self) -> str:
        s = self.state
        return (f"T={s['temperature']:.2f} | teacher entropy {s['teacher_entropy']:.3f} bits, top "
                f"{max(s['teacher_probs']):.1%} | student entropy {s['student_entropy']:.3f} bits, top "
                f"{max(s['student_probs']):.1%}")

    def _draw(self, state, fig, animated: bool = False):
        import textwrap

        from . import panels

        i = state["index"]
        label = f" [{self.class_names[self.labels[i]]}]" if self.labels is not None else ""
        return panels.temperature_panels(
            {k: state[f"{k}_probs"] for k in self.logits}, {k: state[f"{k}_probs_at_1"] for k in self.logits},
            self.class_names, self.grid, {k: v[i] for k, v in self.entropy_grid.items()},
            state["temperature"], textwrap.shorten(state["text"], 56, placeholder=" …") + label, fig=fig,
            animated=animated)


class LossExplorer(_Explorer):
    """T and alpha sliders: soft (T²·KL), hard (CE) and total loss on a real batch; gradient norms vs T."""

    controls = {"temperature": ("slider", 0.5, 10.0, 0.1, "temperature T"),
                "alpha": ("slider", 0.0, 1.0, 0.05, "alpha (teacher weight)")}

    def __init__(self, student_logits, teacher_logits, labels, temperature: float = 2.0, alpha: float = 0.5):
        import numpy as np
        import torch

        from . import losses

        super().__init__()
        losses.distillation_loss(student_logits, teacher_logits, labels)  # validates shapes and labels
        self.student = student_logits.detach().float().cpu()
        self.teacher = teacher_logits.detach().float().cpu()
        self.labels = labels.cpu()
        self.grid = np.geomspace(0.5, 10.0, 40)
        with _one_thread():  # once; redraws only mark the current T on these curves
            curves = [self.gradient_norms(T) for T in self.grid]
        self.grad_curves = {name: [c[key] for c in curves] for name, key in
                            (("with T²", "grad_soft"), ("without T²", "grad_soft_no_t2"),
                             ("hard term", "grad_hard"))}
        # A fixed loss axis for every slider position: the largest soft or hard term on the grid.
        hard = float(torch.nn.functional.cross_entropy(self.student, self.labels))
        self.ymax = 1.18 * max([c["soft"] for c in curves] + [hard, 1e-9])
        self.set(temperature=temperature, alpha=alpha)

    def gradient_norms(self, temperature: float) -> dict:
        """‖∂/∂student logits‖ of the soft term with and without T², and of the hard term."""
        import torch
        import torch.nn.functional as F

        from . import losses

        s = self.student.clone().requires_grad_(True)
        soft = losses.kd_loss(s, self.teacher, temperature)
        (g_soft,) = torch.autograd.grad(soft, s)
        (g_hard,) = torch.autograd.grad(F.cross_entropy(s, self.labels), s)
        return {"soft": float(soft.detach()), "grad_soft": float(g_soft.norm()),
                "grad_soft_no_t2": float(g_soft.norm()) / temperature ** 2, "grad_hard": float(g_hard.norm())}

    def _compute(self, temperature, alpha) -> dict:
        import torch.nn.functional as F

        from . import losses

        alpha = float(alpha)
        total = losses.distillation_loss(self.student, self.teacher, self.labels, temperature, alpha)
        norms = self.gradient_norms(temperature)
        return {"temperature": float(temperature), "alpha": alpha, "soft": norms["soft"],
                "hard": float(F.cross_entropy(self.student, self.labels)), "total": float(total),
                "grad_soft": norms["grad_soft"], "grad_soft_no_t2": norms["grad_soft_no_t2"],
                "grad_hard": norms["grad_hard"]}

    def readout(self) -> str:
        s = self.state
        return (f"soft {s['soft']:.4f} | hard {s['hard']:.4f} | total {s['total']:.4f} | "
                f"‖grad‖ soft with T² {s['grad_soft']:.4f}, without {s['grad_soft_no_t2']:.4f}, "
                f"hard {s['grad_hard']:.4f}")

    def _draw(self, state, fig, animated: bool = False):
        from . import panels

        terms = {"soft (T²·KL)": state["soft"], "hard (CE)": state["hard"], "total": state["total"]}
        return panels.loss_panels(terms, state["temperature"], state["alpha"], self.grid,
                                  self.grad_curves, fig=fig, ymax=self.ymax, animated=animated)
