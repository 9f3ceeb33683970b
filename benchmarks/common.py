"""What every benchmark script records beside its timings (they import it as a sibling module)."""

from __future__ import annotations

import os


def load_average() -> list[float]:
    """The machine's 1/5/15-minute load averages, rounded (empty where the OS has none): timings under load
    are inflated, so each result file says how busy the machine was."""
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else []
