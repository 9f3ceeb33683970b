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


def test_quality_bars_draw_the_interval_of_a_mean_over_sets():
    quality = {
        "teacher": {"distinct_2": {"mean": 0.72, "low": 0.70, "high": 0.74}, "repetition": 0.14},
        "student": {"distinct_2": {"mean": 0.55, "low": 0.52, "high": 0.58}, "repetition": 0.25},
    }
    fig = llm_plots.quality_bars(quality)
    dist, rep = fig.axes
    assert [round(p.get_width(), 2) for p in dist.patches] == [0.72, 0.55]
    bars = [c for c in dist.collections if c.get_segments()]  # the error bars: one segment per model
    assert bars and [tuple(round(x, 2) for x in seg[:, 0]) for seg in bars[0].get_segments()] == [
        (0.70, 0.74),
        (0.52, 0.58),
    ]
    assert not [c for c in rep.collections if c.get_segments()]  # single values: no error bar
    plt.close(fig)


def test_pruning_curve_draws_both_healed_rules():
    rows = [
        {"drop": 3, "even": 500.0, "single": 230.0, "span": 180.0, "single_healed": 170.0, "span_healed": 160.0},
        {"drop": 9, "even": 5e4, "single": 500.0, "span": 5400.0, "single_healed": 290.0, "span_healed": 300.0},
    ]
    fig = llm_plots.pruning_curve(rows, 150.0, healed={"drop": 6, "perplexity": 180.0, "label": "student"})
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert "smallest single blocks, after healing" in labels and "most similar span, after healing" in labels
    healed = next(
        line for line in fig.axes[0].get_lines() if line.get_label() == "smallest single blocks, after healing"
    )
    assert list(healed.get_ydata()) == [170.0, 290.0]
    plt.close(fig)
