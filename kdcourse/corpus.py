"""The course's text data: the Rotten Tomatoes review snippets split by movie, and SST-2 for the gpu profile.

Lesson 00 loads the reviews and looks at their label balance (`load_reviews`, `label_balance`,
`LABELS`); lessons 01-03 train and distil on the profile's data (`load_task_data`: the bundled
reviews offline, GLUE SST-2 from the hub on the gpu profile); lesson 06 draws its LLM prompts from
the reviews. `kdcourse.lessons.warm` and `kdcourse.lessons.l04` load the same splits, so cached teachers
and lessons see identical examples. The files themselves come from `kdcourse.assets`.
"""

from __future__ import annotations

import glob
import os

from .assets import ASSETS, AssetError, fetch, hub_snapshot

LABELS = ("rotten", "fresh")


def load_reviews(seed: int = 0, fractions: tuple[float, float, float] = (0.7, 0.1, 0.2)):
    """Rotten Tomatoes snippets as a DatasetDict split *by movie* (fresh=1, rotten=0, no plots)."""
    import numpy as np
    import pandas as pd
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

    if len(fractions) != 3 or abs(sum(fractions) - 1) > 1e-9 or min(fractions) <= 0:
        raise ValueError(f"fractions must be three positive numbers summing to 1, got {fractions}")
    path = fetch("rotten_tomatoes", verbose=False) / os.path.basename(ASSETS["rotten_tomatoes"].member)
    frame = pd.read_csv(path, compression="bz2")
    frame = frame[frame["category"].isin(LABELS)]
    frame = frame.drop_duplicates(subset="text", keep="first")
    frame = pd.DataFrame(
        {
            "text": frame["text"].str.strip(),
            "label": (frame["category"] == "fresh").astype("int64"),
            "movie": frame["movie_name"],
        }
    )
    movies = np.array(sorted(frame["movie"].unique()))
    np.random.RandomState(seed).shuffle(movies)
    cut1 = int(round(fractions[0] * len(movies)))
    cut2 = cut1 + int(round(fractions[1] * len(movies)))
    groups = {"train": movies[:cut1], "validation": movies[cut1:cut2], "test": movies[cut2:]}
    features = Features({"text": Value("string"), "label": ClassLabel(names=list(LABELS)), "movie": Value("string")})
    return DatasetDict(
        {
            split: Dataset.from_pandas(
                frame[frame["movie"].isin(set(names))].reset_index(drop=True), features=features, preserve_index=False
            )
            for split, names in groups.items()
        }
    )


SST2 = ("nyu-mll/glue", "sst2")  # the hub's GLUE (what load_dataset("glue", "sst2") reads) and its config


def sst2_folder() -> str | None:
    """SST-2's parquet files from the hub (or the Hugging Face cache, offline); None when neither has them."""
    repo, config = SST2
    return hub_snapshot(repo, repo_type="dataset", patterns=[f"{config}/train-*", f"{config}/validation-*"])


def load_sst2():
    """GLUE SST-2 from the hub as train / validation / test (test = GLUE's labelled validation); offline,
    from the Hugging Face cache when a session downloaded it before."""
    from datasets import DatasetDict, load_dataset

    folder, config = sst2_folder(), SST2[1]
    if folder is None:
        raise AssetError(
            "GLUE SST-2 needs the Hugging Face hub, which is unreachable from here (and SST-2 is not in the "
            "Hugging Face cache); offline, use the bundled 'rotten_tomatoes' reviews (KDCOURSE_PROFILE=cpu)"
        )
    files = {
        split: sorted(glob.glob(os.path.join(folder, config, f"{split}-*.parquet")))
        for split in ("train", "validation")
    }
    raw = load_dataset("parquet", data_files=files).rename_column("sentence", "text")
    parts = raw["train"].train_test_split(test_size=0.05, seed=0)
    return DatasetDict({"train": parts["train"], "validation": parts["test"], "test": raw["validation"]})


def label_balance(data) -> dict[str, float]:
    """Share of the majority class per split: the accuracy of always guessing it."""
    out = {}
    for split, ds in data.items():
        labels = ds["label"]
        counts = [labels.count(v) for v in set(labels)]
        out[split] = max(counts) / len(labels)
    return out


def load_task_data(profile, seed: int = 0):
    """The profile's classification data, each split cut to the profile's sizes (shuffled, seeded)."""
    if profile.dataset == "rotten_tomatoes":
        data = load_reviews(seed=seed)
    elif profile.dataset == "glue/sst2":
        data = load_sst2()
    else:
        raise ValueError(f"unknown dataset {profile.dataset!r}; use 'rotten_tomatoes' or 'glue/sst2'")
    sizes = {"train": profile.train_size, "validation": profile.eval_size, "test": profile.test_size}
    for split, size in sizes.items():
        ds = data[split].shuffle(seed=seed)
        data[split] = ds.select(range(min(size, len(ds)))) if size else ds
    return data
