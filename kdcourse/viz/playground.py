"""Lesson 03's distillation playground: T and alpha sliders and a Train button over a real student.

Each press distils a fresh student from cached teacher logits for the profile's playground_steps and
plots its validation curves next to a hard-label baseline (kdcourse.viz.panels.playground_curves). It runs
headless too (tests, static figures), and falls back to one static run without ipywidgets.
"""

from __future__ import annotations

from typing import Any

from ..losses import TEMPERATURE
from .widget import Widget


class DistillationPlayground(Widget):
    """T and alpha sliders + a Train button: distil a fresh student from cached teacher logits, plot vs hard labels.

    Headless use (tests, static figures): `.train(temperature, alpha)` then `.figure()`; `.state` holds
    the current values, the hard-label baseline's history and the last run's history.
    """

    def __init__(
        self,
        make_student,
        train_dataset,
        teacher_logits,
        eval_dataset,
        tokenizer,
        profile,
        temperature: float = TEMPERATURE,
        alpha: float = 0.5,
        seed: int = 0,
        eval_examples: int = 256,
        eval_points: int = 4,
    ):
        if not callable(make_student):
            raise TypeError(
                f"make_student must be a function returning a fresh student model, got {type(make_student).__name__}"
            )
        self.make_student, self.tokenizer, self.profile, self.seed = make_student, tokenizer, profile, seed
        self.train_dataset, self.teacher_logits = train_dataset, teacher_logits
        self.eval_dataset = eval_dataset.select(range(min(eval_examples, len(eval_dataset))))
        self.steps = profile.playground_steps
        self.eval_every = max(1, self.steps // eval_points)
        self.state: dict[str, Any] = {
            "temperature": temperature,
            "alpha": alpha,
            "baseline": None,
            "history": None,
            "runs": 0,
            "seconds": None,
        }
        self.inputs: dict = {}  # name -> slider, filled by widget()

    def _run(self, temperature: float, alpha: float) -> dict:
        from .. import training

        return training.distill(
            self.make_student(),
            self.train_dataset,
            self.tokenizer,
            self.profile,
            teacher_logits=self.teacher_logits,
            temperature=temperature,
            alpha=alpha,
            max_steps=self.steps,
            seed=self.seed,
            eval_dataset=self.eval_dataset,
            eval_every=self.eval_every,
            progress=False,
        )

    def train(self, temperature: float | None = None, alpha: float | None = None) -> dict:
        """One run at (T, alpha) (default: the current values); the hard-label baseline runs once first."""
        import time

        temperature = self.state["temperature"] if temperature is None else temperature
        alpha = self.state["alpha"] if alpha is None else alpha
        self.state.update(temperature=temperature, alpha=alpha)
        if self.state["baseline"] is None:
            start = time.perf_counter()
            self.state["baseline"] = self._run(1.0, 0.0)
            self.state["baseline_seconds"] = time.perf_counter() - start
        start = time.perf_counter()
        self.state["history"] = self._run(temperature, alpha)
        self.state["runs"] += 1
        self.state["seconds"] = time.perf_counter() - start  # this run alone (what each press costs)
        return self.state["history"]

    def figure(self):
        """The validation curves of the last run next to the hard-label baseline."""
        from . import panels

        return panels.playground_curves(self.state["baseline"], self.state["history"])

    def widget(self):
        """The interactive shell: two sliders, a Train button, a status line and the figure."""
        import ipywidgets as w
        import matplotlib.pyplot as plt
        from IPython.display import display

        style = {"description_width": "initial"}
        self.inputs = {
            "temperature": w.FloatSlider(
                value=self.state["temperature"], min=0.5, max=10.0, step=0.5, description="temperature T", style=style
            ),
            "alpha": w.FloatSlider(
                value=self.state["alpha"],
                min=0.0,
                max=1.0,
                step=0.05,
                description="alpha (teacher weight)",
                style=style,
            ),
        }
        button = w.Button(description="Train", button_style="primary", icon="play")
        status = w.Label(value=f"{self.steps} steps per run; the first press also trains the baseline")
        out = w.Output()

        def on_change(change):
            for name, slider in self.inputs.items():
                self.state[name] = slider.value

        def on_click(_):
            button.disabled = True
            status.value = "training ..."
            try:
                self.train()
                status.value = (
                    f"run {self.state['runs']}: final validation accuracy "
                    f"{self.state['history']['eval_accuracy'][-1]:.3f} vs baseline "
                    f"{self.state['baseline']['eval_accuracy'][-1]:.3f} "
                    f"({self.state['seconds']:.0f} s)"
                )
                with out:
                    out.clear_output(wait=True)
                    fig = self.figure()
                    display(fig)
                    plt.close(fig)
            finally:
                button.disabled = False

        for slider in self.inputs.values():
            slider.observe(on_change, names="value")
        button.on_click(on_click)
        return w.VBox([w.HBox(list(self.inputs.values())), w.HBox([button, status]), out])

    fallback = "showing one static run instead of the widget"

    def static(self):
        """Without ipywidgets: train once at the current values and return the figure."""
        self.train()
        return self.figure()
