"""Lesson 06's forward vs reverse KL toy: the best one-Gaussian student for a two-mode teacher, and its widget.

gaussian_fits finds, by grid search, the single Gaussian q that minimises a mix of KL(p‖q) and KL(q‖p)
(or the generalized JSD) for a two-mode teacher p; KLDirectionExplorer moves that mix with a slider and
draws kdcourse.viz.panels.kl_direction_panels: forward KL covers both modes, reverse KL seeks one.
"""

from __future__ import annotations

from .widget import Explorer


def _log_normalise(logits):
    """Log-probabilities over the last axis: subtract its log-sum-exp."""
    import numpy as np

    top = logits.max(axis=-1, keepdims=True)
    return logits - top - np.log(np.exp(logits - top).sum(axis=-1, keepdims=True))


def _objective(objective: str, mix: float, forward, reverse, log_p, log_q):
    """gaussian_fits' loss of every candidate q at mix λ, given its KL(p‖q) and KL(q‖p)."""
    import numpy as np

    if objective == "mixture" or mix in (0, 1):  # the JSD's ends are (scaled) KL(p‖q), KL(q‖p)
        return (1 - mix) * forward + mix * reverse
    p, q = np.exp(log_p)[None], np.exp(log_q)
    log_m = np.logaddexp(np.log(mix) + log_p[None], np.log(1 - mix) + log_q)
    return mix * (p * (log_p[None] - log_m)).sum(-1) + (1 - mix) * (q * (log_q - log_m)).sum(-1)


def gaussian_fits(
    separations=(2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0),
    mixes=None,
    weight: float = 0.6,
    bins: int = 301,
    objective: str = "mixture",
) -> dict:
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
    grid = np.meshgrid(mus, sigmas, indexing="ij")
    mu, sigma = grid[0].ravel(), grid[1].ravel()  # every (mean, width) pair of the grid

    log_q = _log_normalise(-0.5 * ((x[None] - mu[:, None]) / sigma[:, None]) ** 2 - np.log(sigma)[:, None])
    q = np.exp(log_q)
    out = {
        "x": x,
        "mixes": mixes,
        "separations": tuple(float(s) for s in separations),
        "teacher": {},
        "fits": {},
        "weight": weight,
        "objective": objective,
    }
    for sep in out["separations"]:
        log_p = _log_normalise(
            np.logaddexp(np.log(weight) - 0.5 * (x + sep / 2) ** 2, np.log(1 - weight) - 0.5 * (x - sep / 2) ** 2)
        )
        p = np.exp(log_p)
        forward = (p[None] * (log_p[None] - log_q)).sum(-1)  # KL(p‖q) of every candidate
        reverse = (q * (log_q - log_p[None])).sum(-1)  # KL(q‖p)
        out["teacher"][sep] = p
        for mix in mixes:
            best = int(np.argmin(_objective(objective, mix, forward, reverse, log_p, log_q)))
            out["fits"][(sep, float(mix))] = {
                "mu": float(mu[best]),
                "sigma": float(sigma[best]),
                "forward_kl": float(forward[best]),
                "reverse_kl": float(reverse[best]),
                "q": q[best],
            }
    return out


class KLDirectionExplorer(Explorer):
    """Mix forward and reverse KL with a slider: a one-Gaussian student covers or seeks a two-mode teacher.

    Headless use (tests, static figures): `.set(mix=..., separation=...)` returns `.state`;
    `.figure(**values)` is a new static figure. Every fit is precomputed, so a redraw only looks it up.
    """

    controls = {
        "mix": ("slider", 0.0, 1.0, 0.05, "mix λ (0 forward KL, 1 reverse KL)"),
        "separation": ("slider", 2.0, 8.0, 1.0, "distance between the teacher's modes"),
    }
    blit = False  # the whole figure changes with the fit: redraw it in place and save it

    def __init__(self, mix: float = 0.0, separation: float = 6.0, fits: dict | None = None):
        super().__init__()
        self.fits = fits or gaussian_fits()
        self.set(mix=mix, separation=separation)

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
        return {
            "mix": mix,
            "separation": sep,
            "mu": fit["mu"],
            "sigma": fit["sigma"],
            "forward_kl": fit["forward_kl"],
            "reverse_kl": fit["reverse_kl"],
        }

    def readout(self) -> str:
        """The current fit in one line."""
        s = self.state
        return (
            f"λ={s['mix']:.2f}: student μ={s['mu']:+.2f}, σ={s['sigma']:.2f} | KL(p‖q)="
            f"{s['forward_kl']:.3f}, KL(q‖p)={s['reverse_kl']:.3f} | teacher modes at "
            f"±{s['separation'] / 2:g} (σ=1)"
        )

    def curve(self, separation: float) -> tuple[list, list]:
        """Fitted means and widths along the mix axis, at one separation."""
        fits = [self.fits["fits"][(separation, float(m))] for m in self.fits["mixes"]]
        return [f["mu"] for f in fits], [f["sigma"] for f in fits]

    def _draw(self, state, fig, animated: bool = False):
        from . import panels

        sep = state["separation"]
        mus, sigmas = self.curve(sep)
        title = f"λ={state['mix']:.2f}: μ={state['mu']:+.2f}, σ={state['sigma']:.2f}"
        return panels.kl_direction_panels(
            self.fits["x"],
            self.fits["teacher"][sep],
            self.fits["fits"][(sep, state["mix"])]["q"],
            self.fits["mixes"],
            mus,
            sigmas,
            state["mix"],
            title,
            fig=fig,
        )
