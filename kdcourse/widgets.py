"""Interactive widgets of the lessons: thin ipywidgets shells over kdcourse.plots figures.

Every widget keeps its state in plain attributes (so tests drive it headless) and each widget cell in a
lesson is followed by a static figure. Engineers append their lesson's widget below (append only).
"""
from __future__ import annotations


# --- Lesson 03: distillation playground (engineer "training") ---------------------------------

class DistillationPlayground:
    """T and alpha sliders + a Train button: distil a fresh student from cached teacher logits, plot vs hard labels.

    Headless use (tests, static figures): `.train(temperature, alpha)` then `.figure()`; `.state` holds
    the current values, the hard-label baseline's history and the last run's history.
    """

    def __init__(self, make_student, train_dataset, teacher_logits, eval_dataset, tokenizer, profile,
                 temperature: float = 2.0, alpha: float = 0.5, seed: int = 0, eval_examples: int = 512,
                 eval_points: int = 4):
        if not callable(make_student):
            raise TypeError("make_student must be a function returning a fresh student model, "
                            f"got {type(make_student).__name__}")
        self.make_student, self.tokenizer, self.profile, self.seed = make_student, tokenizer, profile, seed
        self.train_dataset, self.teacher_logits = train_dataset, teacher_logits
        self.eval_dataset = eval_dataset.select(range(min(eval_examples, len(eval_dataset))))
        self.steps = profile.playground_steps
        self.eval_every = max(1, self.steps // eval_points)
        self.state = {"temperature": temperature, "alpha": alpha, "baseline": None, "history": None,
                      "runs": 0, "seconds": None}
        self.sliders: dict = {}

    def _run(self, temperature: float, alpha: float) -> dict:
        from . import training

        return training.distill(self.make_student(), self.train_dataset, self.tokenizer, self.profile,
                                teacher_logits=self.teacher_logits, temperature=temperature, alpha=alpha,
                                max_steps=self.steps, seed=self.seed, eval_dataset=self.eval_dataset,
                                eval_every=self.eval_every, progress=False)

    def train(self, temperature: float | None = None, alpha: float | None = None) -> dict:
        """One run at (T, alpha) (default: the current values); the hard-label baseline runs once first."""
        import time

        start = time.perf_counter()
        temperature = self.state["temperature"] if temperature is None else temperature
        alpha = self.state["alpha"] if alpha is None else alpha
        self.state.update(temperature=temperature, alpha=alpha)
        if self.state["baseline"] is None:
            self.state["baseline"] = self._run(1.0, 0.0)
        self.state["history"] = self._run(temperature, alpha)
        self.state["runs"] += 1
        self.state["seconds"] = time.perf_counter() - start
        return self.state["history"]

    def figure(self):
        """The validation curves of the last run next to the hard-label baseline."""
        from . import plots

        return plots.playground_curves(self.state["baseline"], self.state["history"])

    def widget(self):
        """The interactive shell: two sliders, a Train button, a status line and the figure."""
        import ipywidgets as w
        import matplotlib.pyplot as plt
        from IPython.display import display

        style = {"description_width": "initial"}
        self.sliders = {
            "temperature": w.FloatSlider(value=self.state["temperature"], min=0.5, max=10.0, step=0.5,
                                         description="temperature T", style=style),
            "alpha": w.FloatSlider(value=self.state["alpha"], min=0.0, max=1.0, step=0.05,
                                   description="alpha (teacher weight)", style=style),
        }
        button = w.Button(description="Train", button_style="primary", icon="play")
        status = w.Label(value=f"{self.steps} steps per run; the first press also trains the baseline")
        out = w.Output()

        def on_change(change):
            for name, slider in self.sliders.items():
                self.state[name] = slider.value

        def on_click(_):
            button.disabled = True
            status.value = "training ..."
            try:
                self.train()
                status.value = (f"run {self.state['runs']}: final validation accuracy "
                                f"{self.state['history']['eval_accuracy'][-1]:.3f} vs baseline "
                                f"{self.state['baseline']['eval_accuracy'][-1]:.3f} "
                                f"({self.state['seconds']:.0f} s)")
                with out:
                    out.clear_output(wait=True)
                    fig = self.figure()
                    display(fig)
                    plt.close(fig)
            finally:
                button.disabled = False

        for slider in self.sliders.values():
            slider.observe(on_change, names="value")
        button.on_click(on_click)
        return w.VBox([w.HBox(list(self.sliders.values())), w.HBox([button, status]), out])

    def show(self):
        """Display the widget; without ipywidgets, train once and return the static figure instead."""
        try:
            import ipywidgets  # noqa: F401
        except ImportError:
            print("ipywidgets is not installed: showing one static run instead of the widget")
            self.train()
            return self.figure()
        from IPython.display import display

        display(self.widget())
        return None


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

        from . import plots

        i = state["index"]
        label = f" [{self.class_names[self.labels[i]]}]" if self.labels is not None else ""
        return plots.temperature_panels(
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
        from . import plots

        terms = {"soft (T²·KL)": state["soft"], "hard (CE)": state["hard"], "total": state["total"]}
        return plots.loss_panels(terms, state["temperature"], state["alpha"], self.grid,
                                 self.grad_curves, fig=fig, ymax=self.ymax, animated=animated)


# --- Lesson 06: forward vs reverse KL on a two-mode teacher (engineer "llm") ------------------

def gaussian_fits(separations=(2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0), mixes=None, weight: float = 0.6,
                  bins: int = 301, objective: str = "mixture") -> dict:
    """Best single Gaussian q for a two-mode teacher p at each mix λ, by grid search.

    objective "mixture": (1-λ)·KL(p‖q) + λ·KL(q‖p); "jsd": the generalized JSD with β=λ (GKD),
    β·KL(p‖m) + (1-β)·KL(q‖m), m = β·p + (1-β)·q. p and q are categorical over `bins` points of
    [-10, 10] (a vocabulary on a line); 121 means × 50 widths are tried once, so a widget only looks up.
    """
    import numpy as np

    if not 0 < weight < 1:
        raise ValueError(f"weight (share of the left mode) must be in (0, 1), got {weight}")
    if objective not in ("mixture", "jsd"):
        raise ValueError(f"objective must be 'mixture' or 'jsd', got {objective!r}")
    mixes = np.round(np.linspace(0, 1, 21), 2) if mixes is None else np.asarray(mixes, dtype=float)
    x = np.linspace(-10, 10, bins)
    mus, sigmas = np.linspace(-6, 6, 121), np.geomspace(0.3, 6, 50)
    mu, sigma = np.meshgrid(mus, sigmas, indexing="ij")
    mu, sigma = mu.ravel(), sigma.ravel()

    def normalise(logits):  # log-probabilities: subtract the log-sum-exp over the grid
        top = logits.max(axis=-1, keepdims=True)
        return logits - top - np.log(np.exp(logits - top).sum(axis=-1, keepdims=True))

    log_q = normalise(-0.5 * ((x[None] - mu[:, None]) / sigma[:, None]) ** 2 - np.log(sigma)[:, None])
    q = np.exp(log_q)
    out = {"x": x, "mixes": mixes, "separations": tuple(float(s) for s in separations), "teacher": {},
           "fits": {}, "weight": weight, "objective": objective}
    for sep in out["separations"]:
        log_p = normalise(np.logaddexp(np.log(weight) - 0.5 * (x + sep / 2) ** 2,
                                       np.log(1 - weight) - 0.5 * (x - sep / 2) ** 2))
        p = np.exp(log_p)
        forward = (p[None] * (log_p[None] - log_q)).sum(-1)  # KL(p‖q) of every candidate
        reverse = (q * (log_q - log_p[None])).sum(-1)        # KL(q‖p)
        out["teacher"][sep] = p
        for mix in mixes:
            if objective == "mixture" or mix in (0, 1):  # the JSD's ends are (scaled) KL(p‖q), KL(q‖p)
                loss = (1 - mix) * forward + mix * reverse
            else:
                log_m = np.logaddexp(np.log(mix) + log_p[None], np.log(1 - mix) + log_q)
                loss = mix * (p[None] * (log_p[None] - log_m)).sum(-1) \
                    + (1 - mix) * (q * (log_q - log_m)).sum(-1)
            best = int(np.argmin(loss))
            out["fits"][(sep, float(mix))] = {"mu": float(mu[best]), "sigma": float(sigma[best]),
                                              "forward_kl": float(forward[best]),
                                              "reverse_kl": float(reverse[best]), "q": q[best]}
    return out


class KLDirectionExplorer:
    """Mix forward and reverse KL with a slider: a one-Gaussian student covers or seeks a two-mode teacher.

    Headless use (tests, static figures): `.set(mix=..., separation=...)` returns `.state`;
    `.figure(**values)` is a new static figure. Every fit is precomputed, so a redraw only looks it up.
    Uses FloatSlider, Label, Image, VBox and .observe(names="value"): ipywidgets 7.7 and 8.x alike.
    """

    controls = {"mix": (0.0, 1.0, 0.05, "mix λ (0 forward KL, 1 reverse KL)"),
                "separation": (2.0, 8.0, 1.0, "distance between the teacher's modes")}

    def __init__(self, mix: float = 0.0, separation: float = 6.0, fits: dict | None = None):
        self.fits = fits or gaussian_fits()
        self.sliders, self._label, self._image, self._fig = {}, None, None, None
        self.state = self._compute(mix, separation)

    @staticmethod
    def _nearest(value, options, name):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{name} must be a number, got {type(value).__name__}")
        if not min(options) - 1e-9 <= value <= max(options) + 1e-9:
            raise ValueError(f"{name} must be in [{min(options)}, {max(options)}], got {value}")
        return min(options, key=lambda o: abs(o - value))

    def _compute(self, mix, separation) -> dict:
        mix = float(self._nearest(mix, [float(m) for m in self.fits["mixes"]], "mix"))
        sep = self._nearest(separation, self.fits["separations"], "separation")
        fit = self.fits["fits"][(sep, mix)]
        return {"mix": mix, "separation": sep, "mu": fit["mu"], "sigma": fit["sigma"],
                "forward_kl": fit["forward_kl"], "reverse_kl": fit["reverse_kl"]}

    def set(self, **values) -> dict:
        """Change mix and/or separation (snapped to the precomputed grid); redraw; return the state."""
        unknown = set(values) - set(self.controls)
        if unknown:
            raise TypeError(f"unknown value(s) {sorted(unknown)}; this widget has {sorted(self.controls)}")
        values = {**{k: self.state[k] for k in self.controls}, **values}
        self.state = self._compute(values["mix"], values["separation"])
        for name, slider in self.sliders.items():
            if slider.value != self.state[name]:
                slider.value = self.state[name]  # fires _on_change again: same state, cheap
        if self._image is not None:
            self._label.value = self.readout()
            self._image.value = self._png()
        return self.state

    def readout(self) -> str:
        """The current fit in one line."""
        s = self.state
        return (f"λ={s['mix']:.2f}: student μ={s['mu']:+.2f}, σ={s['sigma']:.2f} | KL(p‖q)="
                f"{s['forward_kl']:.3f}, KL(q‖p)={s['reverse_kl']:.3f} | teacher modes at "
                f"±{s['separation'] / 2:g} (σ=1)")

    def curve(self, separation: float) -> tuple[list, list]:
        """Fitted means and widths along the mix axis, at one separation."""
        fits = [self.fits["fits"][(separation, float(m))] for m in self.fits["mixes"]]
        return [f["mu"] for f in fits], [f["sigma"] for f in fits]

    def figure(self, fig=None, **values):
        """The figure at the current values (or the given ones, leaving the state alone)."""
        from . import plots

        state = self._compute(**{**{k: self.state[k] for k in self.controls}, **values})
        sep = state["separation"]
        mus, sigmas = self.curve(sep)
        title = f"λ={state['mix']:.2f}: μ={state['mu']:+.2f}, σ={state['sigma']:.2f}"
        return plots.kl_direction_panels(self.fits["x"], self.fits["teacher"][sep],
                                         self.fits["fits"][(sep, state["mix"])]["q"],
                                         self.fits["mixes"], mus, sigmas, state["mix"], title, fig=fig)

    def _png(self) -> bytes:
        import io

        import matplotlib.pyplot as plt

        created = self._fig is None
        self._fig = self.figure(fig=self._fig)  # one figure, its artists updated in place
        if created:
            plt.close(self._fig)  # we send PNG bytes; the inline backend must not show it too
        buffer = io.BytesIO()
        self._fig.savefig(buffer, format="png", dpi=80)
        return buffer.getvalue()

    def _on_change(self, change):
        name = next(n for n, s in self.sliders.items() if s is change["owner"])
        self.set(**{name: change["new"]})

    def widget(self):
        """Two sliders, a readout line and the figure as an image."""
        import ipywidgets as w

        style = {"description_width": "initial"}
        for name, (lo, hi, step, label) in self.controls.items():
            self.sliders[name] = w.FloatSlider(value=self.state[name], min=lo, max=hi, step=step,
                                               description=label, style=style,
                                               layout=w.Layout(width="70%"))
            self.sliders[name].observe(self._on_change, names="value")
        self._label = w.Label(value=self.readout())
        self._image = w.Image(value=self._png(), format="png")
        return w.VBox([*self.sliders.values(), self._label, self._image])

    def show(self):
        """Display the widget; without ipywidgets, return the static figure at the current values."""
        return _show(self)
