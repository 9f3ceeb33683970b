"""Lesson 05's worked solutions, one per exercise (the code a student would write)."""

SOLUTIONS = {
    "scale_zero_point": """
lo, hi = min(x.min().item(), 0.0), max(x.max().item(), 0.0)   # the range must contain 0
scale = (hi - lo) / 255                                        # uint8: 256 levels, 0..255
zero_point = round(0 - lo / scale)                             # the integer that stands for 0.0
answer = (scale, zero_point)
""",
    "int8_linear_bytes": """
answer = layer.in_features * layer.out_features * 1 + layer.out_features * 4   # int8 weights + fp32 bias
# (plus one fp32/fp64 scale per output channel, and a little pickle overhead, when saved)
""",
    "keep_fp32": """
# the layer group whose int8 version alone flips the most predictions (ties: the larger accuracy drop)
answer = max(sens, key=lambda name: (sens[name]["flips"], -sens[name]["delta"]))
""",
}
