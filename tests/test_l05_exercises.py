"""Lesson 05's auto-checked exercises: each solution runs with the lesson's names and passes its checker;
the classic wrong answers are refused with a reason; placeholders say "Not yet"."""

import pytest
import torch

from kdcourse import quantize
from kdcourse.lessons import l05
from kdcourse_solutions import SOLUTIONS

# torch.ao.quantization's deprecation notices (kdcourse.setup() silences them; lesson 05 explains them).
pytestmark = [
    pytest.mark.filterwarnings("ignore:torch.ao.quantization is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor, torch.quantize_per_channel:UserWarning"),
    pytest.mark.filterwarnings("ignore:TypedStorage is deprecated:UserWarning"),
]


@pytest.fixture(scope="module")
def lesson():
    """The names lesson 05 defines before its exercises: `x` and `layer` as in the exercise cells, and `sens`
    in the shape quantize.sensitivity returns (the numbers of a stored cpu run: block 0 flips the most
    predictions, block 2 loses the most accuracy)."""
    torch.manual_seed(0)
    sens = {
        "block 0": {"accuracy": 0.794, "delta": -0.16, "flips": 56, "logit_change": 0.0652},
        "block 1": {"accuracy": 0.795, "delta": -0.12, "flips": 27, "logit_change": 0.0410},
        "block 2": {"accuracy": 0.794, "delta": -0.24, "flips": 16, "logit_change": 0.0199},
        "pooler.dense + classifier": {"accuracy": 0.795, "delta": -0.12, "flips": 7, "logit_change": 0.0049},
    }
    return {
        "torch": torch,
        "quantize": quantize,
        "l05": l05,
        "x": torch.tensor([-0.62, -0.10, 0.00, 0.35, 1.08]),
        "layer": torch.nn.Linear(96, 160),
        "sens": sens,
    }


def solved(name, lesson):
    namespace = dict(lesson)
    exec(SOLUTIONS[name], namespace)
    return namespace["answer"]


def test_scale_zero_point(lesson, capsys):
    x = lesson["x"]
    scale, zero_point = answer = solved("scale_zero_point", lesson)
    assert l05.check_scale_zero_point(answer, x)
    assert "Right!" in capsys.readouterr().out
    assert not l05.check_scale_zero_point(((x.max() - x.min()).item() / 256, zero_point), x)
    assert "divide the range by 255, not 256" in capsys.readouterr().out
    assert not l05.check_scale_zero_point((scale, round(x.min().item() / scale)), x)  # sign flipped
    assert "zero_point" in capsys.readouterr().out
    assert not l05.check_scale_zero_point(scale, x)
    assert "give a pair (scale, zero_point)" in capsys.readouterr().out
    assert not l05.check_scale_zero_point(None, x)
    assert "Not yet" in capsys.readouterr().out


def test_int8_linear_bytes(lesson, capsys):
    layer = lesson["layer"]
    answer = solved("int8_linear_bytes", lesson)
    assert answer == 96 * 160 + 4 * 160
    assert l05.check_int8_linear_bytes(answer, layer)
    assert "Right!" in capsys.readouterr().out
    assert not l05.check_int8_linear_bytes(4 * 96 * 160 + 4 * 160, layer)
    assert "that is the float32 size" in capsys.readouterr().out
    assert not l05.check_int8_linear_bytes(96 * 160, layer)
    assert "add the bias" in capsys.readouterr().out
    assert not l05.check_int8_linear_bytes(answer / 1e6, layer)
    assert "give bytes, not megabytes" in capsys.readouterr().out
    assert not l05.check_int8_linear_bytes(None, layer)
    assert "Not yet" in capsys.readouterr().out
    with pytest.raises(TypeError, match="layer must be a float nn.Linear"):
        l05.check_int8_linear_bytes(answer, torch.nn.Sequential(layer))


def test_keep_fp32(lesson, capsys):
    sens = lesson["sens"]
    answer = solved("keep_fp32", lesson)
    assert answer == "block 0" == l05.most_sensitive(sens)
    assert l05.check_keep_fp32(answer, sens)
    assert "Right!" in capsys.readouterr().out
    biggest_drop = min(sens, key=lambda name: sens[name]["delta"])  # the accuracy, not the flips
    assert biggest_drop == "block 2"
    assert not l05.check_keep_fp32(biggest_drop, sens)
    assert "flipped 16 predictions; another group flipped more" in capsys.readouterr().out
    assert not l05.check_keep_fp32("block 9", sens)
    assert "not one of the measured groups" in capsys.readouterr().out
    assert not l05.check_keep_fp32(None, sens)
    assert "Not yet" in capsys.readouterr().out
