"""Diagnostic: which protocol details move ML-100K leave-one-out numbers towards LEGO's?

LEGO reports HR@10 15.67-16.40 on ML-100K where RecBole and we get 12-14 with honest,
validation-based early stopping. This script measures, per model and seed, the test HR@10 /
NDCG@10 under protocol variants:

* ``honest``: latest -> test, second latest -> validation, early stopping on validation (ours);
* ``test_selected``: same split, but the epoch is chosen on the *test* set, as the official D2D
  code (LEGO's sibling repository) does;
* ``no_valid_test_selected``: no validation hold-out (the second-latest item is trained on) and
  test-set selection, the D2D code's full protocol;
* each under the tie rules ``file_order``, ``random`` and ``item_id``.

The variants with test-set selection are NOT results: they overfit the test set and exist only
to explain the gap. Output: JSON lines plus a markdown table (``--report``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np
import torch

from recunlearn.data.loading import load_data
from recunlearn.data.spec import DataSpec
from recunlearn.data.splits import leave_one_out
from recunlearn.evaluation.evaluator import evaluate
from recunlearn.models.registry import make_model

VARIANTS = ("honest", "test_selected", "no_valid_test_selected")


def run_cell(dataset, model_name: str, seed: int, ties: str, variant: str) -> dict:
    """Train one model under one protocol variant; return its test metrics."""
    split = leave_one_out(dataset, ties=ties, valid=variant != "no_valid_test_selected")
    if variant != "honest":
        split = dataclasses.replace(split, valid=split.test)
    model = make_model(model_name, seed=seed).fit(split, progress=False)
    test = evaluate(model, split.test, ks=(10,), metrics=("HR", "NDCG")).summary
    return {
        "model": model_name,
        "seed": seed,
        "ties": ties,
        "variant": variant,
        "best_epoch": model.best_epoch_,
        **test,
    }


def _sd(a: np.ndarray) -> float:
    return float(a.std(ddof=1)) if len(a) > 1 else 0.0


def report(path: Path) -> str:
    """Markdown table: mean ± std over seeds."""
    rows = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    groups: dict[tuple, list] = {}
    for r in rows:
        groups.setdefault((r["model"], r["ties"], r["variant"]), []).append(r)
    out = ["| model | ties | variant | seeds | HR@10 % | NDCG@10 % |", "|---|---|---|---|---|---|"]
    for (model, ties, variant), rs in sorted(groups.items()):
        hr = 100 * np.array([r["HR@10"] for r in rs])
        nd = 100 * np.array([r["NDCG@10"] for r in rs])
        out.append(
            f"| {model} | {ties} | {variant} | {len(rs)} | {hr.mean():.2f} ± {_sd(hr):.2f} | "
            f"{nd.mean():.2f} ± {_sd(nd):.2f} |"
        )
    return "\n".join(out)


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--models", nargs="+", default=["mf", "multvae"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--ties", nargs="+", default=["file_order", "random", "item_id"])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="benchmarks/results/protocol_gap.jsonl")
    parser.add_argument("--report", default=None)
    args = parser.parse_args()
    if args.report:
        print(report(Path(args.report)))
        return
    torch.set_num_threads(args.threads)
    dataset = load_data(DataSpec(name="ml-100k", data_dir=args.data_dir))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = set()
    if out.exists():
        done = {
            (r["model"], r["seed"], r["ties"], r["variant"])
            for r in map(json.loads, out.read_text().splitlines())
        }
    for model in args.models:
        for ties in args.ties:
            for variant in args.variants:
                for seed in args.seeds:
                    if (model, seed, ties, variant) in done:
                        continue
                    record = run_cell(dataset, model, seed, ties, variant)
                    with out.open("a") as handle:
                        handle.write(json.dumps(record) + "\n")
                    print(record, flush=True)


if __name__ == "__main__":
    main()
