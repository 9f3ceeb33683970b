"""Lesson 02's explorers: temperature (soft labels of a real review) and loss (T and alpha on a real batch).

Thin shells (kdcourse.viz.widget.Explorer) over kdcourse.viz.panels figures. No model runs in the
redraw path: logits are precomputed.
"""

from __future__ import annotations

from ..losses import TEMPERATURE
from .widget import Explorer, one_thread


def _entropy_bits(probs):
    """Entropy in bits along the last axis of a probability tensor."""
    import torch

    return -(probs * torch.log2(probs.clamp_min(1e-12))).sum(-1)


class TemperatureExplorer(Explorer):
    """Pick a real review and a temperature: teacher and student probabilities softened by T, entropy vs T."""

    controls = {"index": ("dropdown", "review"), "temperature": ("slider", 0.1, 10.0, 0.1, "temperature T")}

    def __init__(
        self,
        texts,
        teacher_logits,
        student_logits,
        labels=None,
        class_names=("rotten", "fresh"),
        temperature: float = TEMPERATURE,
        index: int = 0,
    ):
        import numpy as np
        import torch

        super().__init__()
        self.texts = [str(t) for t in texts]
        logits = {"teacher": teacher_logits, "student": student_logits}
        for name, value in logits.items():
            if not isinstance(value, torch.Tensor) or value.dim() != 2 or len(value) != len(self.texts):
                raise ValueError(
                    f"{name}_logits must be a (len(texts), classes) tensor, got "
                    f"{getattr(value, 'shape', type(value).__name__)} for {len(self.texts)} texts"
                )
        if teacher_logits.shape != student_logits.shape or teacher_logits.shape[1] != len(class_names):
            raise ValueError(
                f"teacher {tuple(teacher_logits.shape)}, student {tuple(student_logits.shape)} "
                f"and {len(class_names)} class names must agree"
            )
        self.logits = {k: v.detach().float().cpu() for k, v in logits.items()}
        self.labels, self.class_names = labels, tuple(class_names)
        self.grid = np.geomspace(0.1, 10.0, 60)
        grid = torch.tensor(self.grid, dtype=torch.float32)[:, None, None]
        # Entropy of every review at every grid temperature, once: redraws only index into it.
        self.entropy_grid = {
            k: _entropy_bits(torch.softmax(v[None] / grid, -1)).T.numpy() for k, v in self.logits.items()
        }
        self.set(index=index, temperature=temperature)

    def _options(self):
        import textwrap

        tag = (lambda i: f"[{self.class_names[self.labels[i]]}] ") if self.labels is not None else (lambda i: "")
        return [(tag(i) + textwrap.shorten(t, 90, placeholder=" …"), i) for i, t in enumerate(self.texts)]

    def _compute(self, index, temperature) -> dict:
        from ..losses import soft_targets

        if not isinstance(index, int) or not 0 <= index < len(self.texts):
            raise ValueError(f"index must be an int in [0, {len(self.texts)}), got {index!r}")
        state = {"index": index, "temperature": float(temperature), "text": self.texts[index]}
        for name, logits in self.logits.items():
            probs = soft_targets(logits[index : index + 1], temperature)[0]
            state[f"{name}_probs"] = [round(float(p), 6) for p in probs]
            state[f"{name}_probs_at_1"] = [float(p) for p in soft_targets(logits[index : index + 1], 1.0)[0]]
            state[f"{name}_entropy"] = float(_entropy_bits(probs))
        return state

    def readout(self) -> str:
        s = self.state
        return (
            f"T={s['temperature']:.2f} | teacher entropy {s['teacher_entropy']:.3f} bits, top "
            f"{max(s['teacher_probs']):.1%} | student entropy {s['student_entropy']:.3f} bits, top "
            f"{max(s['student_probs']):.1%}"
        )

    def _draw(self, state, fig, animated: bool = False):
        import textwrap

        from . import panels

        i = state["index"]
        label = f" [{self.class_names[self.labels[i]]}]" if self.labels is not None else ""
        return panels.temperature_panels(
            {k: state[f"{k}_probs"] for k in self.logits},
            {k: state[f"{k}_probs_at_1"] for k in self.logits},
            self.class_names,
            self.grid,
            {k: v[i] for k, v in self.entropy_grid.items()},
            state["temperature"],
            textwrap.shorten(state["text"], 56, placeholder=" …") + label,
            fig=fig,
            animated=animated,
        )


class LossExplorer(Explorer):
    """T and alpha sliders: soft (T²·KL), hard (CE) and total loss on a real batch; gradient norms vs T."""

    controls = {
        "temperature": ("slider", 0.5, 10.0, 0.1, "temperature T"),
        "alpha": ("slider", 0.0, 1.0, 0.05, "alpha (teacher weight)"),
    }

    def __init__(self, student_logits, teacher_logits, labels, temperature: float = TEMPERATURE, alpha: float = 0.5):
        import numpy as np
        import torch

        from .. import losses

        super().__init__()
        losses.distillation_loss(student_logits, teacher_logits, labels)  # validates shapes and labels
        self.student = student_logits.detach().float().cpu()
        self.teacher = teacher_logits.detach().float().cpu()
        self.labels = labels.cpu()
        self.grid = np.geomspace(0.5, 10.0, 40)
        with one_thread():  # once; redraws only mark the current T on these curves
            curves = [self.gradient_norms(T) for T in self.grid]
        self.grad_curves = {
            name: [c[key] for c in curves]
            for name, key in (("with T²", "grad_soft"), ("without T²", "grad_soft_no_t2"), ("hard term", "grad_hard"))
        }
        # A fixed loss axis for every slider position: the largest soft or hard term on the grid.
        hard = float(torch.nn.functional.cross_entropy(self.student, self.labels))
        self.ymax = 1.18 * max([c["soft"] for c in curves] + [hard, 1e-9])
        self.set(temperature=temperature, alpha=alpha)

    def gradient_norms(self, temperature: float) -> dict:
        """‖∂/∂student logits‖ of the soft term with and without T², and of the hard term."""
        import torch
        import torch.nn.functional as F

        from .. import losses

        s = self.student.clone().requires_grad_(True)
        soft = losses.kd_loss(s, self.teacher, temperature)
        (g_soft,) = torch.autograd.grad(soft, s)
        (g_hard,) = torch.autograd.grad(F.cross_entropy(s, self.labels), s)
        return {
            "soft": float(soft.detach()),
            "grad_soft": float(g_soft.norm()),
            "grad_soft_no_t2": float(g_soft.norm()) / temperature**2,
            "grad_hard": float(g_hard.norm()),
        }

    def _compute(self, temperature, alpha) -> dict:
        import torch.nn.functional as F

        from .. import losses

        alpha = float(alpha)
        total = losses.distillation_loss(self.student, self.teacher, self.labels, temperature, alpha)
        norms = self.gradient_norms(temperature)
        return {
            "temperature": float(temperature),
            "alpha": alpha,
            "soft": norms["soft"],
            "hard": float(F.cross_entropy(self.student, self.labels)),
            "total": float(total),
            "grad_soft": norms["grad_soft"],
            "grad_soft_no_t2": norms["grad_soft_no_t2"],
            "grad_hard": norms["grad_hard"],
        }

    def readout(self) -> str:
        s = self.state
        return (
            f"soft {s['soft']:.4f} | hard {s['hard']:.4f} | total {s['total']:.4f} | "
            f"‖grad‖ soft with T² {s['grad_soft']:.4f}, without {s['grad_soft_no_t2']:.4f}, "
            f"hard {s['grad_hard']:.4f}"
        )

    def _draw(self, state, fig, animated: bool = False):
        from . import panels

        terms = {"soft (T²·KL)": state["soft"], "hard (CE)": state["hard"], "total": state["total"]}
        return panels.loss_panels(
            terms,
            state["temperature"],
            state["alpha"],
            self.grid,
            self.grad_curves,
            fig=fig,
            ymax=self.ymax,
            animated=animated,
        )
