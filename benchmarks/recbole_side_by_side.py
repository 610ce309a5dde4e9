"""RecBole 1.2.1 side-by-side harness: per-epoch training time and accuracy of RecBole's models.

Runs inside its own venv (see benchmarks/README_recbole.md), NOT the recunlearn environment: this
script must not import recunlearn. It

1. converts a raw MovieLens folder (ML-100K ``u.data`` + ``u.user`` or ML-1M-format
   ``ratings.dat`` + ``users.dat``) into RecBole atomic files in a temporary directory (never in the
   repository; nothing is downloaded: RecBole's download path is disabled);
2. runs one RecBole model with the anchor configuration (anchors.md section 3): users with >= 5
   interactions, leave-one-out split by timestamp (latest -> test, second latest -> valid), full
   ranking with known items masked, embedding size 32, train batch 2048, up to 200 epochs, early
   stopping on valid NDCG@10 with stopping_step 30, 1 uniform negative for pairwise models;
3. writes a JSON record: per-epoch training seconds (wall and process CPU; evaluation excluded),
   per-evaluation validation seconds, losses, valid NDCG@10 per evaluation, best valid NDCG@10,
   test HR@10 / NDCG@10, the split check, dataset counts, wall time, versions and load averages.

Runtime patches (nothing in site-packages is edited):

* ``torch.load`` defaults to ``weights_only=False`` (torch >= 2.6 defaults to True, which cannot
  unpickle the RecBole checkpoint dict holding its Config object; RecBole only loads checkpoints it
  wrote itself in this run's temporary directory);
* ``recbole.quick_start`` is never imported: it imports ray, whose ``pkg_resources`` import needs
  setuptools < 70-ish, which torch 2.13 (setuptools >= 77) forbids. The quick-start steps are
  replicated here instead (Config -> create_dataset -> data_preparation -> model -> Trainer);
* RecBole's dataset download is replaced by an error;
* ``sys.argv`` is hidden from RecBole's Config (it would parse ``--key=value`` arguments).

Ties between equal timestamps: RecBole's "TO" ordering is a *stable* sort of the float32 timestamp
over the whole interaction table, so equal timestamps keep the atomic file's row order. This script
writes the rows sorted by (user, timestamp, tie key), with the tie key chosen by ``--ties`` in the
same way as recunlearn's ``leave_one_out``: ``item_id`` (larger raw item id = later, recunlearn's
default) or ``file_order`` (later source row = later). The resulting RecBole split is checked
against the split computed here from the raw data (``split_check`` in the JSON).

Example::

    /work/recbole-venv/bin/python benchmarks/recbole_side_by_side.py \
        --data-dir ../shared/data/ml-100k --dataset-format ml-100k --model BPR \
        --epochs 200 --out /tmp/recbole_bpr_ml100k.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime

MODELS = ("BPR", "LightGCN", "NeuMF", "MultiVAE")
FORMATS = ("ml-100k", "ml-1m")


# --------------------------------------------------------------------------- arguments


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data-dir", required=True, help="raw ml-100k folder or ML-1M-format folder"
    )
    parser.add_argument("--dataset-format", choices=FORMATS, default="ml-100k")
    parser.add_argument("--model", choices=MODELS, required=True)
    parser.add_argument("--epochs", type=int, default=200, help="maximum epochs (default 200)")
    parser.add_argument("--stopping-step", type=int, default=30, help="RecBole stopping_step (30)")
    parser.add_argument("--eval-step", type=int, default=1, help="validate every N epochs (1)")
    parser.add_argument("--seed", type=int, default=2020, help="RecBole seed (default 2020)")
    parser.add_argument("--threads", type=int, default=2, help="torch / OpenMP threads (2)")
    parser.add_argument(
        "--ties",
        choices=("item_id", "file_order"),
        default="item_id",
        help="order of equal timestamps within a user (as recunlearn's leave_one_out)",
    )
    parser.add_argument(
        "--omp-wait-policy",
        choices=("PASSIVE", "ACTIVE"),
        default=None,
        help="set OMP_WAIT_POLICY before torch loads (default: inherit the environment)",
    )
    parser.add_argument("--min-user-inter", type=int, default=5, help="keep users with >= N (5)")
    parser.add_argument("--out", required=True, help="JSON file to write (parent created)")
    parser.add_argument(
        "--keep-workdir", action="store_true", help="keep the temporary atomic files and logs"
    )
    parser.add_argument("--quiet", action="store_true", help="RecBole log level WARNING")
    return parser.parse_args(argv)


# --------------------------------------------------------------------------- data conversion


def _read_raw(data_dir: str, fmt: str):
    """(interaction rows [(user, item, rating, timestamp)], user rows [(user, age, gender, occ)])."""
    rows, users = [], []
    if fmt == "ml-100k":
        inter_path, user_path = os.path.join(data_dir, "u.data"), os.path.join(data_dir, "u.user")
        with open(inter_path, encoding="latin-1") as f:
            for line in f:
                if line.strip():
                    u, i, r, t = line.rstrip("\n").split("\t")
                    rows.append((int(u), int(i), float(r), int(t)))
        if os.path.exists(user_path):
            with open(user_path, encoding="latin-1") as f:
                for line in f:
                    if line.strip():
                        u, age, gender, occ, _zip = line.rstrip("\n").split("|")
                        users.append((int(u), age, gender, occ))
    else:
        inter_path = os.path.join(data_dir, "ratings.dat")
        user_path = os.path.join(data_dir, "users.dat")
        with open(inter_path, encoding="latin-1") as f:
            for line in f:
                if line.strip():
                    u, i, r, t = line.rstrip("\n").split("::")
                    rows.append((int(u), int(i), float(r), int(t)))
        if os.path.exists(user_path):
            with open(user_path, encoding="latin-1") as f:
                for line in f:
                    if line.strip():
                        u, gender, age, occ, _zip = line.rstrip("\n").split("::")
                        users.append((int(u), age, gender, occ))
    if not rows:
        raise SystemExit(f"no interactions read from {inter_path}")
    return rows, users


def write_atomic_files(data_dir: str, fmt: str, ties: str, dataset_dir: str, name: str) -> dict:
    """Write ``name.inter`` and ``name.user`` into ``dataset_dir``; return counts and the order."""
    rows, users = _read_raw(data_dir, fmt)
    # (user, timestamp, tie key, source row): the row order RecBole's stable TO sort will keep.
    if ties == "item_id":
        order = sorted(range(len(rows)), key=lambda k: (rows[k][0], rows[k][3], rows[k][1], k))
    else:
        order = sorted(range(len(rows)), key=lambda k: (rows[k][0], rows[k][3], k))
    os.makedirs(dataset_dir, exist_ok=True)
    with open(os.path.join(dataset_dir, f"{name}.inter"), "w") as f:
        f.write("user_id:token\titem_id:token\trating:float\ttimestamp:float\n")
        for k in order:
            u, i, r, t = rows[k]
            f.write(f"{u}\t{i}\t{r:g}\t{t}\n")
    with open(os.path.join(dataset_dir, f"{name}.user"), "w") as f:
        # ML-100K has raw ages, ML-1M age codes: both written as tokens (not loaded by default).
        f.write("user_id:token\tage:token\tgender:token\toccupation:token\n")
        present = {r[0] for r in rows}  # users.dat of the ML-1M subset lists all 6,040 users
        n_user_rows = 0
        for u, age, gender, occ in users:
            if u in present:
                f.write(f"{u}\t{age}\t{gender}\t{occ}\n")
                n_user_rows += 1
    ordered = [rows[k] for k in order]
    return {
        "raw_interactions": len(rows),
        "raw_users": len({r[0] for r in rows}),
        "raw_items": len({r[1] for r in rows}),
        "user_file_rows": n_user_rows,
        "ordered": ordered,
    }


def expected_split(ordered: list[tuple], min_user_inter: int) -> tuple[dict, dict, int, int]:
    """Per user (raw id) the expected test and valid item from the ordered rows.

    Users with fewer than ``min_user_inter`` interactions are dropped (as RecBole's
    user_inter_num_interval; ML data has no item filter here). Also returns the number of
    kept interactions and of tied latest/second-latest timestamps (users whose held-out items
    depend on the tie rule).
    """
    by_user: dict[int, list[tuple]] = {}
    for row in ordered:
        by_user.setdefault(row[0], []).append(row)
    test, valid, kept, tie_dependent = {}, {}, 0, 0
    for u, rs in by_user.items():
        if len(rs) < min_user_inter:
            continue
        kept += len(rs)
        test[u] = rs[-1][1]
        valid[u] = rs[-2][1]
        if rs[-1][3] == rs[-2][3] or (len(rs) > 2 and rs[-2][3] == rs[-3][3]):
            tie_dependent += 1
    return test, valid, kept, tie_dependent


# --------------------------------------------------------------------------- run


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started_wall = time.perf_counter()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    load_start = os.getloadavg()

    # Threads must be fixed before torch is imported.
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    if args.omp_wait_policy:
        os.environ["OMP_WAIT_POLICY"] = args.omp_wait_policy

    import numpy as np
    import pandas as pd
    import scipy
    import torch

    torch.set_num_threads(args.threads)

    # Patch 1: torch >= 2.6 defaults torch.load to weights_only=True; RecBole's own checkpoints
    # (written in this run's temporary directory) hold a Config object and need the full unpickler.
    _torch_load = torch.load

    def _load_full(*a, **kw):
        kw.setdefault("weights_only", False)
        return _torch_load(*a, **kw)

    torch.load = _load_full

    import recbole
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.data.dataset import dataset as recbole_dataset_module
    from recbole.utils import get_model, get_trainer, init_logger, init_seed

    # Patch 2: never download a data set.
    def _no_download(self):
        raise RuntimeError(
            f"RecBole tried to download dataset [{self.dataset_name}]: the atomic files are missing"
        )

    recbole_dataset_module.Dataset._download = _no_download

    # Not "ml-100k": for that exact name RecBole's Config ignores data_path and reads the copy
    # bundled in its wheel (dataset_example/ml-100k, rows in u.data order).
    name = "ml-100k-local" if args.dataset_format == "ml-100k" else "ml-1m-local"
    workdir = tempfile.mkdtemp(prefix=f"recbole_sbs_{args.model}_")
    data_root = os.path.join(workdir, "dataset")
    conv = write_atomic_files(
        args.data_dir, args.dataset_format, args.ties, os.path.join(data_root, name), name
    )
    exp_test, exp_valid, exp_kept, tie_dependent = expected_split(
        conv.pop("ordered"), args.min_user_inter
    )

    config_dict = {
        # environment
        "data_path": data_root,
        "checkpoint_dir": os.path.join(workdir, "saved"),
        "use_gpu": False,
        "gpu_id": "",
        "seed": args.seed,
        "reproducibility": True,
        "show_progress": False,
        "state": "WARNING" if args.quiet else "INFO",
        "worker": 0,
        # atomic files (same fields for both formats; only the interactions are loaded)
        "field_separator": "\t",
        "USER_ID_FIELD": "user_id",
        "ITEM_ID_FIELD": "item_id",
        "RATING_FIELD": "rating",
        "TIME_FIELD": "timestamp",
        "load_col": {"inter": ["user_id", "item_id", "rating", "timestamp"]},
        "normalize_all": True,  # as RecBole's ml-100k.yaml (rating/timestamp to [0, 1])
        "user_inter_num_interval": f"[{args.min_user_inter},inf)",
        "item_inter_num_interval": "[0,inf)",
        "threshold": None,  # every rating is an implicit positive
        # split / evaluation
        "eval_args": {
            "split": {"LS": "valid_and_test"},
            "order": "TO",
            "group_by": "user",
            "mode": "full",
        },
        "metrics": ["Hit", "NDCG", "Recall", "MRR", "Precision"],
        "topk": [10],
        "valid_metric": "NDCG@10",
        "valid_metric_bigger": True,
        "eval_batch_size": 4096,
        # training
        "epochs": args.epochs,
        "train_batch_size": 2048,
        "learner": "adam",
        "learning_rate": 0.001,
        "stopping_step": args.stopping_step,
        "eval_step": args.eval_step,
        "train_neg_sample_args": {"distribution": "uniform", "sample_num": 1},
    }
    if args.model in ("BPR", "LightGCN"):
        config_dict["embedding_size"] = 32
    elif args.model == "NeuMF":
        config_dict["mf_embedding_size"] = 32
        config_dict["mlp_embedding_size"] = 32
    # MultiVAE: RecBole defaults (mlp_hidden_size [600], latent_dimension 128, ...).

    # RecBole writes ./log and ./log_tensorboard relative to the working directory.
    cwd = os.getcwd()
    os.chdir(workdir)
    saved_argv = sys.argv
    sys.argv = [saved_argv[0]]  # Patch 3: keep our options away from RecBole's cmd-line parser
    try:
        config = Config(model=args.model, dataset=name, config_dict=config_dict)
        init_seed(config["seed"], config["reproducibility"])
        init_logger(config)
        # init_logger may change nothing about threads, but re-assert them.
        torch.set_num_threads(args.threads)

        t0 = time.perf_counter()
        dataset = create_dataset(config)
        train_data, valid_data, test_data = data_preparation(config, dataset)
        data_seconds = time.perf_counter() - t0

        split_check = check_split(dataset, train_data, valid_data, test_data, exp_test, exp_valid)

        init_seed(config["seed"] + config["local_rank"], config["reproducibility"])
        model = get_model(config["model"])(config, train_data._dataset).to(config["device"])
        n_params = sum(p.numel() for p in model.parameters())
        trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, model)

        epochs: list[dict] = []
        evals: list[dict] = []
        saves: list[dict] = []
        orig_train = trainer._train_epoch
        orig_valid = trainer._valid_epoch
        orig_save = trainer._save_checkpoint

        def timed_train(train_loader, epoch_idx, loss_func=None, show_progress=False):
            c0, w0 = time.process_time(), time.perf_counter()
            loss = orig_train(
                train_loader, epoch_idx, loss_func=loss_func, show_progress=show_progress
            )
            w1, c1 = time.perf_counter(), time.process_time()
            total = float(sum(loss)) if isinstance(loss, tuple) else float(loss)
            epochs.append(
                {
                    "epoch": epoch_idx + 1,
                    "train_seconds": w1 - w0,
                    "train_cpu_seconds": c1 - c0,
                    "loss": total,
                }
            )
            return loss

        def timed_valid(valid_loader, show_progress=False):
            w0 = time.perf_counter()
            score, result = orig_valid(valid_loader, show_progress=show_progress)
            evals.append(
                {
                    "epoch": len(epochs),
                    "valid_seconds": time.perf_counter() - w0,
                    "valid_ndcg@10": float(score),
                    "valid": {k: float(v) for k, v in result.items()},
                }
            )
            return score, result

        def timed_save(epoch, verbose=True, **kw):
            w0 = time.perf_counter()
            out = orig_save(epoch, verbose=verbose, **kw)
            saves.append({"epoch": epoch + 1, "seconds": time.perf_counter() - w0})
            return out

        trainer._train_epoch = timed_train
        trainer._valid_epoch = timed_valid
        trainer._save_checkpoint = timed_save

        t0 = time.perf_counter()
        best_valid_score, best_valid_result = trainer.fit(
            train_data, valid_data, saved=True, show_progress=False
        )
        fit_seconds = time.perf_counter() - t0

        t0 = time.perf_counter()
        test_result = trainer.evaluate(test_data, load_best_model=True, show_progress=False)
        test_seconds = time.perf_counter() - t0
    finally:
        sys.argv = saved_argv
        os.chdir(cwd)

    train_secs = [e["train_seconds"] for e in epochs]
    valid_secs = [e["valid_seconds"] for e in evals]
    best_epoch = saves[-1]["epoch"] if saves else None
    n_train = int(train_data._dataset.inter_num)
    record = {
        "tool": "recbole",
        "date": started_at,
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus",
        "threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "loadavg_start": list(load_start),
        "loadavg_end": list(os.getloadavg()),
        "data_dir": os.path.abspath(args.data_dir),
        "dataset_format": args.dataset_format,
        "dataset": name,
        "model": args.model,
        "seed": args.seed,
        "ties": args.ties,
        "config": {
            k: (v if isinstance(v, (int, float, str, bool, list, dict, type(None))) else str(v))
            for k, v in config.final_config_dict.items()
            if k in _CONFIG_KEYS_TO_RECORD
        },
        "n_params": int(n_params),
        "conversion": conv,
        "n_users": int(dataset.user_num - 1),  # RecBole counts a [PAD] user / item
        "n_items": int(dataset.item_num - 1),
        "n_interactions": int(dataset.inter_num),
        "n_train_interactions": n_train,
        "n_valid_interactions": int(valid_data._dataset.inter_num),
        "n_test_interactions": int(test_data._dataset.inter_num),
        "train_batches_per_epoch": len(train_data),
        "expected_kept_interactions": exp_kept,
        "tie_dependent_users": tie_dependent,
        "split_check": split_check,
        "epochs_run": len(epochs),
        "best_epoch": best_epoch,
        "best_valid_ndcg@10": float(best_valid_score),
        "best_valid": {k: float(v) for k, v in (best_valid_result or {}).items()},
        "test": {k: float(v) for k, v in (test_result or {}).items()},
        "test_hr@10": float(test_result["hit@10"]),
        "test_ndcg@10": float(test_result["ndcg@10"]),
        "per_epoch": epochs,
        "per_eval": evals,
        "checkpoint_saves": len(saves),
        "checkpoint_seconds_total": sum(s["seconds"] for s in saves),
        "train_seconds_total": sum(train_secs),
        "train_seconds_per_epoch_mean": sum(train_secs) / len(train_secs) if train_secs else None,
        "train_seconds_per_epoch_median": _median(train_secs),
        "train_seconds_per_epoch_excl_first_median": _median(train_secs[1:]),
        "train_cpu_seconds_per_epoch_mean": (
            sum(e["train_cpu_seconds"] for e in epochs) / len(epochs) if epochs else None
        ),
        "valid_seconds_total": sum(valid_secs),
        "valid_seconds_per_eval_mean": sum(valid_secs) / len(valid_secs) if valid_secs else None,
        "train_interactions_per_second": (
            n_train * len(train_secs) / sum(train_secs) if train_secs else None
        ),
        "data_prep_seconds": data_seconds,
        "fit_seconds": fit_seconds,
        "test_seconds": test_seconds,
        "wall_seconds": time.perf_counter() - started_wall,
        "versions": {
            "python": platform.python_version(),
            "recbole": recbole.__version__,
            "torch": torch.__version__,
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "pandas": pd.__version__,
        },
        "patches": [
            "torch.load default weights_only=False (runtime)",
            "recbole Dataset._download disabled (runtime)",
            "recbole.quick_start not imported (avoids ray/pkg_resources)",
        ],
        "workdir": workdir if args.keep_workdir else None,
    }
    out_dir = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(record, f, indent=2)
        f.write("\n")
    if not args.keep_workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"{name} {args.model}: epochs {record['epochs_run']} (best {best_epoch}), "
        f"train {record['train_seconds_per_epoch_mean']:.3f} s/epoch (median "
        f"{record['train_seconds_per_epoch_median']:.3f}), valid "
        f"{(record['valid_seconds_per_eval_mean'] or 0):.3f} s/eval, best valid NDCG@10 "
        f"{record['best_valid_ndcg@10']:.4f}, test HR@10 {record['test_hr@10']:.4f} "
        f"NDCG@10 {record['test_ndcg@10']:.4f}, split ok {split_check['ok']}, "
        f"wall {record['wall_seconds']:.1f} s -> {args.out}"
    )


_CONFIG_KEYS_TO_RECORD = {
    "model",
    "dataset",
    "epochs",
    "train_batch_size",
    "eval_batch_size",
    "learner",
    "learning_rate",
    "weight_decay",
    "stopping_step",
    "eval_step",
    "train_neg_sample_args",
    "eval_args",
    "metrics",
    "topk",
    "valid_metric",
    "embedding_size",
    "mf_embedding_size",
    "mlp_embedding_size",
    "mlp_hidden_size",
    "dropout_prob",
    "n_layers",
    "reg_weight",
    "latent_dimension",
    "anneal_cap",
    "total_anneal_steps",
    "user_inter_num_interval",
    "item_inter_num_interval",
    "normalize_all",
    "seed",
    "reproducibility",
    "shuffle",
    "mf_train",
    "mlp_train",
    "use_pretrain",
    "require_pow",
}


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def check_split(dataset, train_data, valid_data, test_data, exp_test, exp_valid) -> dict:
    """Compare RecBole's built split with the expected one and check what full-sort masks.

    * the valid / test (user, item) pairs equal the expected latest / second-latest items;
    * the test loader masks the user's validation item (history = train + valid items);
    * the valid loader does not mask the test item.
    """
    uid_field, iid_field = dataset.uid_field, dataset.iid_field

    def raw_pairs(ds):
        users = dataset.id2token(uid_field, ds.inter_feat[uid_field].numpy())
        items = dataset.id2token(iid_field, ds.inter_feat[iid_field].numpy())
        return {int(u): int(i) for u, i in zip(users, items, strict=True)}, len(users)

    got_test, n_test = raw_pairs(test_data._dataset)
    got_valid, n_valid = raw_pairs(valid_data._dataset)
    test_mismatch = sum(1 for u, i in exp_test.items() if got_test.get(u) != i)
    valid_mismatch = sum(1 for u, i in exp_valid.items() if got_valid.get(u) != i)

    # masking: history items of the full-sort loaders (internal ids)
    test_masks_valid, valid_masks_test, checked = 0, 0, 0
    hist_test, hist_valid = test_data.uid2history_item, valid_data.uid2history_item
    for u_raw, i_valid in list(exp_valid.items())[:200]:
        uid = int(dataset.token2id(uid_field, str(u_raw)))
        iid_valid = int(dataset.token2id(iid_field, str(i_valid)))
        iid_test = int(dataset.token2id(iid_field, str(exp_test[u_raw])))
        checked += 1
        if hist_test[uid] is not None and iid_valid in set(hist_test[uid].tolist()):
            test_masks_valid += 1
        if hist_valid[uid] is not None and iid_test in set(hist_valid[uid].tolist()):
            valid_masks_test += 1
    ok = (
        test_mismatch == 0
        and valid_mismatch == 0
        and n_test == len(exp_test)
        and n_valid == len(exp_valid)
    )
    return {
        "ok": ok,
        "n_test_users": n_test,
        "n_valid_users": n_valid,
        "expected_users": len(exp_test),
        "test_item_mismatches": test_mismatch,
        "valid_item_mismatches": valid_mismatch,
        "masking_users_checked": checked,
        "test_masks_valid_item": test_masks_valid,
        "valid_masks_test_item": valid_masks_test,
    }


if __name__ == "__main__":
    main()
