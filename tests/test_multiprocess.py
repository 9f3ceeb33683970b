"""DistillationTrainer is a transformers.Trainer, so it runs data-parallel under torchrun / accelerate
unchanged: two CPU processes (gloo), a few steps with a tiny teacher and a layer-copy student. The loss
falls, both ranks end with identical student weights, and the teacher stays frozen, in eval mode and
on each rank's device."""

import json
import os
import subprocess
import sys

import pytest

SCRIPT = r"""
import hashlib, json, os, sys, tempfile
import torch
from datasets import Dataset
from transformers import BertConfig, BertForSequenceClassification, DataCollatorWithPadding
from kdcourse import assets, get_profile, students
from kdcourse.kd_trainer import DistillationTrainer, model_columns, training_arguments

out = sys.argv[1]
torch.manual_seed(0)
config = BertConfig(vocab_size=30522, hidden_size=16, num_hidden_layers=4, num_attention_heads=2,
                    intermediate_size=32, max_position_embeddings=32, num_labels=2)
teacher = BertForSequenceClassification(config).eval()
with torch.no_grad():
    teacher.classifier.weight.mul_(50.0)  # a confident teacher: a soft loss well above zero
student = students.student_from_teacher(teacher, [0, 2])
tok = assets.load_tokenizer("minilm")
texts = ["a quietly devastating film", "dull", "the best thing this year", "a mess", "sharp and funny",
         "never finds its footing", "gorgeous", "two hours I will not get back"] * 4
data = Dataset.from_dict(dict(tok(texts, truncation=True, max_length=16)))
data = data.add_column("label", [i % 2 for i in range(32)])
profile = get_profile("smoke").replace(batch_size=4, learning_rate=1e-2)
seen = []
with tempfile.TemporaryDirectory() as tmp:
    trainer = DistillationTrainer(model=student, args=training_arguments(tmp, profile, epochs=10.0, seed=0),
                                  train_dataset=model_columns(data), data_collator=DataCollatorWithPadding(tok),
                                  teacher=teacher, alpha=0.5)
    compute = trainer.compute_loss

    def spy(*args, **kwargs):
        loss = compute(*args, **kwargs)
        seen.append(float(loss.detach()))
        return loss

    trainer.compute_loss = spy
    trainer.train()
rank = int(os.environ["RANK"])
weights = b"".join(p.detach().cpu().numpy().tobytes() for p in student.parameters())
json.dump({"world": trainer.args.world_size, "losses": seen, "digest": hashlib.sha256(weights).hexdigest(),
           "teacher_eval": not trainer.teacher.training,
           "teacher_frozen": not any(p.requires_grad for p in trainer.teacher.parameters()),
           "teacher_device": str(next(trainer.teacher.parameters()).device), "device": str(trainer.args.device)},
          open(os.path.join(out, f"rank{rank}.json"), "w"))
"""


def test_distillation_trainer_runs_data_parallel_on_two_processes(tmp_path):
    script = tmp_path / "ddp_distil.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "KDCOURSE_PROFILE": "smoke"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        str(script),
        str(tmp_path),
    ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    for r in ranks:
        assert r["world"] == 2
        assert r["teacher_eval"] and r["teacher_frozen"]
        assert r["teacher_device"].split(":")[0] == r["device"].split(":")[0]  # "cpu" and "cpu:0": one device
        first, last = r["losses"][:4], r["losses"][-4:]
        assert sum(last) < sum(first), f"loss did not fall: {r['losses']}"
    assert ranks[0]["digest"] == ranks[1]["digest"], "the two ranks ended with different students"
    assert ranks[0]["losses"] != ranks[1]["losses"], "both ranks saw the same batches: no data parallelism"


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__, "-q"])
