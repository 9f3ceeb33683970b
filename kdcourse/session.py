"""The session every lesson starts: seeding, instructor mode and notes, and quieting library noise."""

from __future__ import annotations

import logging
import os
import random
import warnings
from pathlib import Path

INSTRUCTOR_ENV = "KDCOURSE_INSTRUCTOR"

# torchao (lesson 05's fast int8 path; transformers imports it when installed) logs that its optional
# CUDA kernels cannot load on a CPU machine, and registers enums with torch's pytree, which logs a
# deprecation notice; neither affects the course. Set on import, before any kdcourse module imports
# transformers (the rest of the quieting waits for setup()).
logging.getLogger("torchao").setLevel(logging.ERROR)
logging.getLogger("torch.utils._pytree").setLevel(logging.ERROR)


def seed_everything(seed: int = 0) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) so reruns print the same numbers."""
    import numpy as np
    import torch

    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def instructor_mode() -> bool:
    """True when $KDCOURSE_INSTRUCTOR is set to 1/true (or setup(instructor=True) was called)."""
    return os.environ.get(INSTRUCTOR_ENV, "").lower() in ("1", "true", "yes")


def instructor_note(text: str) -> None:
    """Show an instructor note: open in instructor mode, folded away (one click to open) otherwise."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"an instructor note needs some text, got {text!r}")
    from IPython.display import Markdown, display

    state = " open" if instructor_mode() else ""
    hint = "" if instructor_mode() else f" (folded; {INSTRUCTOR_ENV}=1 opens these)"
    display(
        Markdown(f"<details{state}><summary>🎓 <b>Instructor note</b>{hint}</summary>\n\n{text.strip()}\n\n</details>")
    )


def quiet() -> None:
    """Silence library noise a student cannot act on; each line says why."""
    # The tokenizers library warns about parallelism after a fork (DataLoader workers, Jupyter);
    # our batches are small, so its own threads are not worth the warning.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # Hub ids are only used by the gpu profile; when the hub is unreachable, tell transformers
    # and datasets up front so they never wait on the network (kdcourse.assets explains instead).
    from .assets import hub_reachable

    if not hub_reachable():
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["HF_DATASETS_OFFLINE"] = "1"
    import datasets
    import transformers

    # Info/warning logs (e.g. "newly initialized classifier weights") are explained in the lessons
    # where they matter; errors still show.
    transformers.logging.set_verbosity_error()
    datasets.logging.set_verbosity_error()
    # datasets draws a progress bar for every tiny .map(); the course's own long steps use tqdm.
    datasets.disable_progress_bars()
    # transformers 5 draws a "Loading weights" bar for every from_pretrained, even of tiny models.
    transformers.utils.logging.disable_progress_bar()
    # Jupyter's tqdm notebook widget needs a live frontend; nbval and PDF exports show text bars.
    warnings.filterwarnings("ignore", category=UserWarning, message=".*IProgress not found.*")
    # torch.ao.quantization is deprecated in favour of torchao; lesson 05 explains both paths.
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.ao\..*")
    warnings.filterwarnings("ignore", message=r".*torch\.ao\.quantization.*deprecated.*")
    # torch 2.13's int8 modules build their weights with torch.quantize_per_tensor/_per_channel,
    # which now warn (UserWarning) that quantized tensor creation is deprecated; same story (lesson 05).
    warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor, torch\.quantize_per_channel")
    # Optuna logs one INFO line per study and trial (lesson 03 draws its own progress bar), and marks its
    # matplotlib plots and PED-ANOVA "experimental" (a notice that their API may change, nothing a student
    # can act on). With very few trials (the smoke profile's 3) PED-ANOVA cannot tell the best trials from
    # all of them and warns that the importances are equal; lesson 03's checker says so in words.
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", message="Target and region quantiles select the same set of trials")
    # model2vec (lesson 07's static student) rebuilds the teacher's tokenizer with skeletoken, which warns that
    # it copies the tokenizer's own pad token over: model2vec's doing, right, and nothing a student can change.
    logging.getLogger("skeletoken").setLevel(logging.ERROR)
    _bundled_fonts()


def _bundled_fonts() -> None:
    """Register matplotlib's own fonts when its font cache lacks them (they are needed for math text).

    The cache (~/.cache/matplotlib) is shared by every install of one matplotlib version; one written
    by another env whose files are gone (a deleted virtualenv) can list only the system fonts, and then
    every figure with math warns "findfont: Font family 'STIXGeneral' not found" and falls back.
    """
    from matplotlib import font_manager, get_data_path

    known = {Path(font.fname) for font in font_manager.fontManager.ttflist}
    for path in sorted((Path(get_data_path()) / "fonts" / "ttf").glob("*.ttf")):
        if path not in known:
            font_manager.fontManager.addfont(str(path))


def show_source(obj):
    """The source code of a kdcourse function or class, syntax-highlighted in a notebook (plain text elsewhere)."""
    import inspect
    import textwrap

    from IPython.display import Code

    try:
        source = inspect.getsource(obj)
    except (TypeError, OSError) as err:
        raise TypeError(f"show_source needs a function, method or class defined in Python source, got {obj!r}") from err
    return Code(textwrap.dedent(source), language="python")
