"""Training speed of the base models (issue 2): seconds per epoch and interactions per second.

Each model trains for ``--epochs`` epochs on the ML-100K leave-one-out training set with the
validation loop disabled, so only training time is counted (the same quantity the RecBole
harness, ``recbole_side_by_side.py``, records). Two settings per model:

* ``default``: our defaults (NCF draws 4 negatives per positive, MultVAE uses 512-user batches);
* ``equal_work``: the work RecBole does per epoch (NCF with 1 negative per positive, MultVAE
  with one 2048-user batch), for a like-for-like ratio.

Run it alone on the machine, with the same thread settings as the RecBole runs
(``OMP_WAIT_POLICY=PASSIVE``, 2 threads).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np
import torch

from recunlearn.data.splits import leave_one_out
from recunlearn.models.registry import make_model
from recunlearn.runs.pipeline import load_data
from recunlearn.runs.spec import DataSpec

SETTINGS = {
    "default": {"mf": {}, "ncf": {}, "lightgcn": {}, "multvae": {}},
    "equal_work": {"ncf": {"n_negatives": 1}, "multvae": {"batch_size": 2048}},
}


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="benchmarks/results/speed_ml100k.jsonl")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dataset = load_data(DataSpec(name="ml-100k", data_dir=args.data_dir))
    split = dataclasses.replace(leave_one_out(dataset), valid=None)
    n_train = int(split.train.nnz)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for setting, models in SETTINGS.items():
        for name, options in models.items():
            model = make_model(name, epochs=args.epochs, seed=0, **options).fit(
                split, progress=False
            )
            seconds = np.asarray(model.epoch_seconds_[1:])  # the first epoch pays one-off costs
            record = {
                "model": name,
                "setting": setting,
                "options": options,
                "threads": torch.get_num_threads(),
                "train_interactions": n_train,
                "seconds_per_epoch_median": float(np.median(seconds)),
                "seconds_per_epoch_mean": float(seconds.mean()),
                "interactions_per_second": float(n_train / np.median(seconds)),
            }
            with out.open("a") as handle:
                handle.write(json.dumps(record) + "\n")
            print(record, flush=True)


if __name__ == "__main__":
    main()
