"""Lesson 07's worked solutions, one per exercise (the code a student would write)."""

SOLUTIONS = {
    "pareto_front": """
def my_pareto_front(points):
    front = []
    for name, (lat, acc) in points.items():
        beaten = any(l2 <= lat and a2 >= acc and (l2 < lat or a2 > acc)
                     for other, (l2, a2) in points.items() if other != name)
        if not beaten:
            front.append(name)
    return sorted(front, key=lambda n: points[n][0])
""",
    "p95": """
times = sorted(batch1_times)
answer = benchmark.percentile(times, 95)   # or numpy.percentile(times, 95)
""",
    "control": """
control = {"data": "snippets + copies", "labels": "hard", "steps": "taught run's"}
# Only the labels differ from the taught run: l07.CNN_RUNS["hard labels on the copies"], trained in section 3.
""",
}
