"""Lesson 04's worked solutions, one per exercise (the code a student would write)."""

SOLUTIONS = {
    "first_last_student": """
n = students.num_layers(teacher)
answer = students.student_from_teacher(teacher, [0, n - 1])
""",
    "masked_cosine": """
def masked_cosine(student_hidden, teacher_hidden, attention_mask):
    cos = F.cosine_similarity(student_hidden, teacher_hidden, dim=-1)   # (batch, seq)
    real = attention_mask.bool()                                       # padding is False
    return (1 - cos)[real].mean()                                      # mean over real tokens only
""",
    "seeds_to_decide": """
import math
from scipy import stats as sps

sides = regimes["all labels"]
d = [100 * (b - a) for a, b in zip(sides["without teacher"], sides["with teacher"])]  # points, one per seed
mean = sum(d) / len(d)
sd = math.sqrt(sum((x - mean) ** 2 for x in d) / (len(d) - 1))
# the paired t-interval's half-width at n seeds is t(0.975, n - 1) * sd / sqrt(n): the first n where it is < |mean|
# (math.inf when no count below 100,000 would: a gain that small is "not decided" at any practical budget)
answer = next((n for n in range(2, 100_000) if sps.t.ppf(0.975, n - 1) * sd / math.sqrt(n) < abs(mean)), math.inf)
""",
}
