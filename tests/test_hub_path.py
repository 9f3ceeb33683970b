"""The `gpu` profile's hub path (BERT-base teacher, SST-2, DistilBERT reference), run offline against a
local replica of the hub: a Hugging Face cache this test seeds, under the real repository ids, with tiny
models (random weights, the real uncased vocabulary) and SST-2's real file layout and columns holding a
few of the course's review snippets. Nothing here is presented as the real BERT or SST-2: the replica
checks that the code a Colab GPU user runs finds, reads and trains what the hub would give it.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kdcourse import corpus
from kdcourse.assets import ASSETS, asset_dir
from kdcourse.profiles import PROFILES

COMMIT = "0" * 39 + "1"  # any 40-hex revision: refs/main points the cache at it


def snapshot(hub: Path, repo_id: str, repo_type: str = "model") -> Path:
    """An empty snapshot folder of `repo_id` in a Hugging Face cache laid out as huggingface_hub writes it."""
    root = hub / f"{repo_type}s--{repo_id.replace('/', '--')}"
    (root / "refs").mkdir(parents=True)
    (root / "refs" / "main").write_text(COMMIT)
    folder = root / "snapshots" / COMMIT
    folder.mkdir(parents=True)
    return folder


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """A seeded HF_HOME: tiny bert-base-uncased and distilbert-base-uncased, and nyu-mll/glue's sst2 parquet."""
    from transformers import BertConfig, BertForMaskedLM, DistilBertConfig, DistilBertForMaskedLM

    from kdcourse import assets

    home = tmp_path_factory.mktemp("hf")
    tokenizer = assets.load_tokenizer("minilm")  # MiniLM uses bert-base-uncased's vocabulary
    tiny = {"vocab_size": tokenizer.vocab_size, "max_position_embeddings": 512}
    bert = BertForMaskedLM(
        BertConfig(hidden_size=32, num_hidden_layers=4, num_attention_heads=2, intermediate_size=64, **tiny)
    )
    distil = DistilBertForMaskedLM(DistilBertConfig(dim=32, n_layers=2, n_heads=2, hidden_dim=64, **tiny))
    for repo_id, model in {"bert-base-uncased": bert, "distilbert-base-uncased": distil}.items():
        folder = snapshot(home / "hub", repo_id)
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
    folder = snapshot(home / "hub", "nyu-mll/glue", "dataset") / "sst2"
    folder.mkdir()
    reviews = corpus.load_reviews(seed=0)
    for split, n in {"train": 400, "validation": 120, "test": 60}.items():
        part = reviews["train" if split == "train" else "test"].select(range(n))
        frame = part.to_pandas()[["text", "label"]].rename(columns={"text": "sentence"})
        frame["idx"] = range(n)
        frame["label"] = -1 if split == "test" else frame["label"]  # GLUE's test labels are hidden
        frame.to_parquet(folder / f"{split}-00000-of-00001.parquet", index=False)
    return home


REPLICA_PROFILE = """
from kdcourse.profiles import PROFILES
gpu, smoke = PROFILES["gpu"], PROFILES["smoke"]
# the gpu profile's choices (hub ids, dataset, sequence length), smoke's sizes, on the CPU
profile = smoke.replace(name="gpu", teacher=gpu.teacher, dataset=gpu.dataset, reference_student=gpu.reference_student,
                        max_length=gpu.max_length, train_size=256, eval_size=64, test_size=64, distil_train_size=128)
"""


def run_offline(home: Path, tmp_path: Path, code: str) -> dict:
    """Run `code` after REPLICA_PROFILE in a fresh interpreter that sees only the seeded cache (the hub is
    off); its last line prints a JSON object, which is returned."""
    env = {
        **os.environ,
        "HF_HOME": str(home),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_DATASETS_CACHE": str(tmp_path / "datasets"),
        "KDCOURSE_CACHE": str(tmp_path / "kdcourse"),
        "KDCOURSE_PROFILE": "smoke",
    }
    (tmp_path / "kdcourse").mkdir()
    for key in ASSETS:  # the fetched assets (MiniLM, the reviews), not the trained caches
        if asset_dir(key).is_dir():
            (tmp_path / "kdcourse" / asset_dir(key).name).symlink_to(asset_dir(key))
    done = subprocess.run(
        [sys.executable, "-c", REPLICA_PROFILE + textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_gpu_profile_loads_sst2_and_the_hub_models_from_the_cache(hub, tmp_path):
    out = run_offline(
        hub,
        tmp_path,
        """
    import json
    from kdcourse import assets, corpus
    from kdcourse.lessons import l04
    data = corpus.load_task_data(profile, seed=0)
    chosen, note = l04.hub_fallback(profile)
    tok = assets.load_tokenizer(profile.teacher)
    teacher = assets.load_classifier(profile.teacher)
    reference = assets.load_classifier(profile.reference_student)
    ids = tok(data["train"][:2]["text"], truncation=True, max_length=profile.max_length)["input_ids"]
    print(json.dumps({"splits": {k: len(v) for k, v in data.items()}, "columns": data["train"].column_names,
                      "labels": sorted(set(data["test"]["label"])), "teacher": chosen.teacher, "note": note,
                      "classes": [type(teacher).__name__, type(reference).__name__], "ids": len(ids)}))
    """,
    )
    assert out["splits"] == {"train": 256, "validation": 20, "test": 64}  # 5% of 400 train rows for validation
    assert {"text", "label"} <= set(out["columns"]) and out["labels"] == [0, 1]  # test: GLUE's labelled validation
    assert out["teacher"] == "bert-base-uncased" and "unreachable" not in out["note"]
    assert out["classes"] == ["BertForSequenceClassification", "DistilBertForSequenceClassification"]
    assert out["ids"] == 2


def test_gpu_profile_lesson_04_path_trains_on_the_replica(hub, tmp_path):
    """Lesson 04's setup (teacher fine-tune, teacher cache) and the DistilBERT reference run, at smoke sizes."""
    out = run_offline(
        hub,
        tmp_path,
        """
    import json
    from kdcourse.lessons import l04
    setup = l04.prepare(profile, seed=0, progress=False)
    reference = l04.reference_run(setup, profile.reference_student, seed=0)
    print(json.dumps({"note": setup.note, "teacher": type(setup.teacher).__name__,
                      "layers": setup.teacher.config.num_hidden_layers, "train": len(setup.train),
                      "teacher_accuracy": setup.teacher_accuracy, "reference": reference["accuracy"]}))
    """,
    )
    assert out["note"].startswith("teacher bert-base-uncased, data glue/sst2")
    assert out["teacher"] == "BertForSequenceClassification" and out["layers"] == 4
    assert out["train"] == 128
    assert 0 <= out["teacher_accuracy"] <= 1 and 0 <= out["reference"] <= 1


def test_without_the_cache_the_gpu_profile_falls_back_and_says_why(monkeypatch):
    from kdcourse.lessons import l04

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    profile, note = l04.hub_fallback(PROFILES["gpu"])
    assert profile.teacher == "minilm" and "unreachable" in note
