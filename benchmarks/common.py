"""What every benchmark script records beside its timings (they import it as a sibling module)."""

from __future__ import annotations

import json
import os


def load_average() -> list[float]:
    """The machine's 1/5/15-minute load averages, rounded (empty where the OS has none): timings under load
    are inflated, so each result file says how busy the machine was."""
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else []


def write_results(result: dict, out, name: str, markdown: str) -> None:
    """Write `name`.json and `name`.md into the folder `out` (created if needed) and print the markdown."""
    from pathlib import Path

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
    (out / f"{name}.md").write_text(markdown)
    print(markdown)
