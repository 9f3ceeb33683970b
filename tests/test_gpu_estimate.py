"""benchmarks/gpu_estimate.py: the README's time and memory estimates for the gpu profile are the ones its
code computes now, from the profile's current sizes and the H200 run on record (issue 24)."""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import gpu_estimate  # noqa: E402

from kdcourse.profiles import PROFILES  # noqa: E402


def record():
    stored = json.loads((ROOT / "benchmarks" / "results" / "gpu_check.json").read_text())
    return stored["by_cpu"][stored["latest"]]


def test_stored_estimates_and_readme_table_are_current():
    est = json.loads(json.dumps(gpu_estimate.estimate(record())))
    assert est == json.loads((gpu_estimate.OUT / "gpu_estimate.json").read_text()), (
        "stale: run python benchmarks/gpu_estimate.py"
    )
    readme = (ROOT / "README.md").read_text()
    assert gpu_estimate.with_table(readme, gpu_estimate.markdown(est)) == readme, "README's gpu table is stale"


def test_counts_match_a_count_by_hand_of_the_lessons():
    """Counted by reading lessons 04 and 07 cell by cell (gpu profile, SST-2: 1,000 batches per epoch):
    lesson 04 trains 16 students for 3 epochs, one from scratch for 6, three on a fifth of the labels
    (200 batches x 3); lesson 07 trains per seed a CNN for 3 epochs and three on 4 copies of the data
    (11,997 steps each), 5 seeds, plus one random-embedding run; and per route seed the routes' runs."""
    work = {lesson: {w[0]: w[2] for w in items} for lesson, items in gpu_estimate.work().items()}
    assert sum(n for what, n in work["04"].items() if "recipe" in what) == 16 * 3000 + 6000 + 3 * 600
    assert work["07"]["CNN students (5 seeds x 4 runs + random-embedding run)"] == 5 * (3000 + 3 * 11_997) + 11_997
    # routes, 3 seeds: trained embeddings on 4 copies of the data (11,997 steps), then twice on 11 copies
    # (3 epochs x ceil(11 x 63,981 / 64) = 32,991 steps each: 10 copies, then 10 copies and 200 filters)
    assert work["07"]["CNN routes past the frontier (3 seeds x 3 new routes)"] == 3 * (11_997 + 2 * 32_991)
    assert work["07"]["static students' heads (5 seeds x 2 runs)"] == 2 * 5 * 11_997


def test_the_profile_drives_the_counts():
    p = PROFILES["gpu"]
    more = gpu_estimate.work(p.replace(llm_train_steps=p.llm_train_steps + 100))
    base = gpu_estimate.work(p)
    step = lambda w: sum(n for _, kind, n, *_ in w["06"] if kind == "LLM train")  # noqa: E731
    assert step(more) - step(base) == 100


def test_param_counts_are_the_real_models():
    models = gpu_estimate.models()
    assert models["bert-base"]["params"] == 109_483_778  # BertForSequenceClassification, 2 labels
    assert models["SmolLM2-135M"]["params"] == record()["steps"][0]["params"]  # loaded on the H200
