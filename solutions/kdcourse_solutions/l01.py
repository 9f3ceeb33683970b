"""Lesson 01's worked solutions, one per exercise (the code a student would write)."""

SOLUTIONS = {
    "fair_comparison": """
settings = [c for c in timings.columns if c not in ("model", "latency_ms")]
for x in timings.index:
    for y in timings.index:
        if x < y and timings.loc[x, "model"] != timings.loc[y, "model"]:
            differ = [c for c in settings if timings.loc[x, c] != timings.loc[y, c]]
            print(x, y, "differ in", differ or "the model only")
answer = ("a", "d")  # the one pair whose only difference is the model
""",
    "measured_speedup": """
latency = {row["name"]: row["latency_ms"] for row in rows}
answer = latency["BERT-base"] / latency["DistilBERT"]
""",
    "most_uncertain_snippet": """
off_top = 1 - shown_probs.max(dim=-1).values   # mass the teacher puts off its top answer
answer = int(off_top.argmax())
""",
}
