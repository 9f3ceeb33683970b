"""The plumbing every lesson widget shares: one public `show()`, and the explorer base class.

Widgets keep their state in plain attributes (so tests drive them headless) and each widget cell in a
lesson is followed by a static figure. Only FloatSlider, Dropdown, Button, Label, Image, Output,
HBox/VBox and .observe(names="value") are used: ipywidgets 7.7 (Colab) and 8.x alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class one_thread:
    """Run torch on one thread inside the block: widget maths is on tiny tensors, where waking a
    thread pool costs more than the work (tens of ms on a busy machine)."""

    def __enter__(self):
        import torch

        self.threads = torch.get_num_threads()
        torch.set_num_threads(1)

    def __exit__(self, *exc):
        import torch

        torch.set_num_threads(self.threads)


class Widget:
    """A lesson widget: `widget()` builds the ipywidgets view, `static()` the figure shown without ipywidgets."""

    fallback = "showing a static figure at the current values"  # what show() does without ipywidgets

    def widget(self):
        raise NotImplementedError

    def static(self):
        """The static stand-in for the widget (a figure)."""
        return self.figure()

    def show(self):
        """Display the widget; without ipywidgets, return the static stand-in instead."""
        try:
            import ipywidgets  # noqa: F401
        except ImportError:
            print(f"ipywidgets is not installed: {self.fallback}")
            return self.static()
        from IPython.display import display

        display(self.widget())
        return None


class Explorer(Widget):
    """Controls over precomputed numbers: a state dict, set(), controls kept in sync, PNG redraws.

    A subclass declares `controls` (name -> ("slider", lo, hi, step, label) or ("dropdown", label))
    and defines `_compute(**values) -> state` and `_draw(state, fig, animated) -> figure`. With
    `blit = True`, `_draw` marks its changing artists in `fig._kd_artists["animated"]` and redraws
    only those over a cached background; otherwise the figure is updated in place and saved whole.
    """

    controls: dict = {}
    blit = True
    # each explorer defines both: `_compute(**controls)` -> state, `_draw(state, fig, animated=False)` -> figure
    _compute: Callable[..., dict]
    _draw: Callable[..., Any]
    dpi = 80  # resolution of the redrawn PNG when not blitting

    def __init__(self):
        self.state: dict = {}
        self.inputs = {}  # name -> ipywidget, filled by widget()
        self._image = self._readout = self._live = None
        self._syncing = False

    def set(self, **values) -> dict:
        """Change some values (e.g. temperature=4.0), recompute, redraw; returns the new state."""
        unknown = set(values) - set(self.controls)
        if unknown:
            raise TypeError(f"unknown value(s) {sorted(unknown)}; this widget has {sorted(self.controls)}")
        with one_thread():
            self.state = self._compute(**{**{k: self.state.get(k) for k in self.controls}, **values})
        self._syncing = True
        try:
            for name, control in self.inputs.items():
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
        """PNG of the current state, drawn into one figure that is reused between redraws."""
        import io

        import matplotlib.pyplot as plt

        if not self.blit:
            created = self._live is None
            self._live = self._draw(self.state, self._live)  # one figure, its artists updated in place
            if created:
                plt.close(self._live)  # we send PNG bytes; the inline backend must not show it too
            buffer = io.BytesIO()
            self._live.savefig(buffer, format="png", dpi=self.dpi)
            return buffer.getvalue()
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from PIL import Image

        if self._live is None:  # the static background is drawn once, changing artists are blitted
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
        Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).save(
            buffer, format="png", compress_level=1
        )
        return buffer.getvalue()

    def _on_change(self, change):
        if not self._syncing:
            name = next(n for n, c in self.inputs.items() if c is change["owner"])
            self.set(**{name: change["new"]})

    def _options(self):
        return []

    def widget(self):
        """The ipywidgets view: controls, a readout line and the figure."""
        import ipywidgets as w

        style = {"description_width": "initial"}
        for name, spec in self.controls.items():
            if spec[0] == "slider":
                _, lo, hi, step, label = spec
                self.inputs[name] = w.FloatSlider(
                    value=self.state[name],
                    min=lo,
                    max=hi,
                    step=step,
                    description=label,
                    style=style,
                    continuous_update=False,
                )
            else:
                self.inputs[name] = w.Dropdown(
                    options=self._options(),
                    value=self.state[name],
                    description=spec[1],
                    style=style,
                    layout=w.Layout(width="95%"),
                )
            self.inputs[name].observe(self._on_change, names="value")
        self._readout = w.Label(value=self.readout())
        self._image = w.Image(value=self.render_png(), format="png")
        return w.VBox([*self.inputs.values(), self._readout, self._image])

    def readout(self) -> str:
        """One line of the current numbers (shown under the controls)."""
        return ""

    def figure(self, **values):
        """A new static figure at the current values, or at the given ones; the state is untouched."""
        return self._draw(self._compute(**{**{k: self.state[k] for k in self.controls}, **values}), None)
