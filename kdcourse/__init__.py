"""kdcourse: the helper package of a hands-on course on knowledge distillation of language models.

Every lesson starts with `profile = kdcourse.setup(seed=0)`. The package holds the distillation core
(flat modules: losses, students, training, kd_trainer, quantize, llm, ...), the figures and widgets
(`kdcourse.viz`) and each lesson's own code (`kdcourse.lessons`: l00 ... l07).
"""

from __future__ import annotations

import os

from .profiles import PROFILES, Profile, get_profile
from .session import (
    INSTRUCTOR_ENV,
    instructor_mode,
    instructor_note,
    quiet,
    seed_everything,
    show_source,
)
from .version import REF, REPO, __version__  # the version and the repository (kdcourse/version.py)

__all__ = [
    "setup",
    "seed_everything",
    "Profile",
    "PROFILES",
    "get_profile",
    "instructor_mode",
    "instructor_note",
    "show_source",
    "__version__",
    "REPO",
    "REF",
]


def setup(
    seed: int = 0,
    profile: str | Profile | None = None,
    instructor: bool | None = None,
    lesson: str | None = None,
    verbose: bool = True,
) -> Profile:
    """Seed every RNG, quiet library noise, pick the profile and device; print one status line.

    In instructor mode, `lesson="03"` also warms that lesson's caches first (kdcourse.lessons.warm).
    """
    if instructor is not None:
        os.environ[INSTRUCTOR_ENV] = "1" if instructor else "0"
    quiet()
    chosen = get_profile(profile)
    seed_everything(seed)
    if verbose:
        import datasets
        import torch
        import transformers

        mode = " | instructor mode" if instructor_mode() else ""
        print(
            f"kdcourse {__version__} | profile {chosen.name}: {chosen.summary} | device "
            f"{chosen.device} | seed {seed}{mode}\n"
            f"torch {torch.__version__.split('+')[0]}, transformers {transformers.__version__}, "
            f"datasets {datasets.__version__}"
        )
    if lesson is not None and instructor_mode():
        from .lessons.warm import warm

        warm([lesson], chosen, seed=seed, verbose=verbose)
        seed_everything(seed)  # warming may draw random numbers; the lesson starts from the seed
    return chosen
