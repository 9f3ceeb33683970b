"""Lesson 06's figures: each draws from plain numbers and returns a Figure; bad input gets a clear error."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from kdcourse.viz import llm_plots  # noqa: E402


def test_quality_bars_one_bar_per_model_and_the_reference_line():
    quality = {"teacher": {"distinct_2": 0.72, "repetition": 0.14}, "student": {"distinct_2": 0.55, "repetition": 0.25}}
    fig = llm_plots.quality_bars(quality)
    dist, rep = fig.axes
    assert [t.get_text() for t in dist.get_yticklabels()] == ["teacher", "student"]
    assert [round(p.get_width(), 2) for p in rep.patches] == [0.14, 0.25]
    assert any(line.get_xdata()[0] == 0.72 for line in dist.get_lines())  # the teacher's dashed line
    plt.close(fig)
    with pytest.raises(ValueError, match="quality is empty"):
        llm_plots.quality_bars({})


def test_other_figures_draw():
    rows = [
        {"student": "before training", "perplexity": 250.0, "agreement": 0.5},
        {"student": "forward KL", "perplexity": 180.0, "agreement": 0.6},
    ]
    for fig in (
        llm_plots.lm_student_bars(rows, teacher={"perplexity": 150.0, "agreement": 1.0}),
        llm_plots.loss_curves({"a": [3.0, 2.0, 1.5], "b": [2.0, 1.0]}),
        llm_plots.memory_bars({"teacher": 540.0, "cache": 12.0}),
    ):
        assert fig.axes
        plt.close(fig)
