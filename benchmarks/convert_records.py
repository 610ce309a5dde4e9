"""One-off: convert the records of the retired benchmark scripts into `recunlearn bench` records.

A record is converted only when the converter can prove the bench cell would compute the same
thing: the cell's parameters are rebuilt from the config, and the configuration the current code
resolves for that cell (trainer options, defaults included; data facts) must equal the one the
old record stored. Records that fail the proof are listed and left out (they are recomputed by
`recunlearn bench`). Run once; the script is then removed (it lives in git history).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from recunlearn.bench import expand, load_config
from recunlearn.core.records import RECORD_FORMAT, record_path, write_record
from recunlearn.data.feedback import load_debias_data
from recunlearn.debias.registry import default_options, make_trainer

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "shared" / "data"
SCRIPT_ROWS = {  # benchmarks/ultd_table1.py: row -> (method, options)
    "ultd-jl alpha=0": ("ultd-jl", {"fixed_alpha": 0.0}),
    "ultd-jl alpha=1": ("ultd-jl", {"fixed_alpha": 1.0}),
    "ultd-jl fixed alpha=0.1 (no rate network)": ("ultd-jl", {"fixed_alpha": 0.1}),
    "ultd-jl global rate": ("ultd-jl", {"rate": "global"}),
    "ultd-jl no-A users alpha=0": ("ultd-jl", {"no_a_users": "zero"}),
    "ultd-jl g anchored on A": ("ultd-jl", {"g_reg_kind": "anchor", "g_reg": 0.1}),
    "ultd-jl +A in L_f": ("ultd-jl", {"add_uniform": True}),
}


def _cell_params(record: dict) -> dict:
    row = record["row"]
    if row in SCRIPT_ROWS:
        method, options = SCRIPT_ROWS[row]
        return {
            "method": method,
            "label": row,
            "options": options,
            "dataset": record["dataset"],
            "seed": record["seed"],
        }
    if row == "mf-uniform":
        return {"method": "mf-uniform", "dataset": record["dataset"], "seed": record["seed"]}
    return {"dataset": record["dataset"], "method": row, "seed": record["seed"]}


def convert_ultd(out: Path) -> None:
    cells = {
        json.dumps(c.params, sort_keys=True): c
        for c in expand(load_config(HERE / "configs" / "ultd_table1.yaml"))
    }
    facts = {
        name: load_debias_data(name, DATA / folder).describe()
        for name, folder in (("coat", "coat"), ("yahoo", "yahoo-r3"))
    }
    converted, refused = 0, []
    for number, line in enumerate(
        (HERE / "results" / "ultd_table1.jsonl").read_text().splitlines(), start=1
    ):
        old = json.loads(line)
        params = _cell_params(old)
        cell = cells.get(json.dumps(params, sort_keys=True))
        method = params["method"]
        options = {
            **default_options(method, old["dataset"]),
            **params.get("options", {}),
            "seed": old["seed"],
        }
        trainer = make_trainer(method, **options).config.to_dict()
        reasons = []
        if cell is None:
            reasons.append("no cell of the config has these parameters")
        if old["config"]["options"] != options:
            reasons.append(f"options differ: {old['config']['options']} vs today {options}")
        if old["trainer_config"] != trainer:
            reasons.append("resolved trainer config differs from today's")
        if old["data"] != facts[old["dataset"]]:
            reasons.append("data facts differ")
        if reasons:
            refused.append((number, old["row"], old["seed"], reasons))
            continue
        metrics = {
            k: v
            for k, v in old.items()
            if k not in ("row", "cell_hash", "git_commit", "date", "machine", "command")
        }
        metrics["row"] = old["row"]
        record = {
            "format": RECORD_FORMAT,
            "kind": "debias",
            "config_hash": cell.hash,
            "label": cell.label,
            "params": cell.params,
            "deps": [],
            "protocol": {"kind": "debias", "split": "A 5% / V 5% / T 90% of the unbiased ratings"},
            "dataset": {"label": old["dataset"]},
            "metrics": metrics,
            "per_user": None,
            "wall": {"total": old["wall_seconds"]},
            "versions": {},
            "commit": old["git_commit"],
            "machine": {"description": old["machine"]},
            "started": old["date"][:19] + "+00:00",
            "created": old["date"][:19] + "+00:00",
            "converted_from": f"benchmarks/results/ultd_table1.jsonl line {number} ({old['command']})",
        }
        if not record_path(out, cell.hash).exists():
            write_record(out, record)
            converted += 1
    print(f"ultd: {converted} converted, {len(refused)} refused")
    for item in refused:
        print("  refused", item)


def _same_resolved(old: dict, today: dict) -> bool:
    """Old resolved model options equal today's; options the old code did not have must be at
    their neutral value today (they did not exist, so the old run behaved as the neutral one)."""
    from recunlearn.experiments.spec import HASH_NEUTRAL_DEFAULTS

    for key, value in today.items():
        if key in old:
            if old[key] != value and not (isinstance(value, list) and list(old[key]) == value):
                return False
        elif key != "seed" and HASH_NEUTRAL_DEFAULTS.get(key, object()) != value:
            return False
    return set(old) <= set(today)


def _adversary_equal(old: dict | None, today: dict | None) -> bool:
    """Same adversary config; ``objective`` absent in records made before it existed means the
    only behaviour there was then, ``reversal``."""
    if old is None or today is None:
        return old is None and today is None
    old = dict(old)
    old.setdefault("objective", "reversal")
    old_attributes = {k: {**v, "hidden": list(v["hidden"])} for k, v in old["attributes"].items()}
    today_attributes = {
        k: {**v, "hidden": list(v["hidden"])} for k, v in today["attributes"].items()
    }
    old_attributes = {k: {**v, "lam": 0.0} for k, v in old_attributes.items()}
    today_attributes = {k: {**v, "lam": 0.0} for k, v in today_attributes.items()}
    rest = lambda d: {k: v for k, v in d.items() if k != "attributes"}  # noqa: E731
    return old_attributes == today_attributes and rest(old) == rest(today)


def convert_adversarial(config_path: Path, out: Path) -> None:
    """Match each adversarial cell of the config with an old record by everything that decides
    its numbers: data fingerprint, protocol, model and its resolved options, adversary config,
    lambdas, replicate, attackers and label holdout."""
    from recunlearn.bench.data import data_spec
    from recunlearn.data.fingerprint import dataset_fingerprint
    from recunlearn.data.loading import load_data
    from recunlearn.experiments.adversarial import GridSetup
    from recunlearn.models.registry import make_model
    from recunlearn.protect.adversarial.config import AdversaryConfig

    old_records = [
        (number, json.loads(line))
        for number, line in enumerate(
            (HERE / "results" / "adversarial_grid.jsonl").read_text().splitlines(), start=1
        )
    ]
    datasets: dict = {}
    converted, missing = 0, []
    for cell in expand(load_config(config_path)):
        if cell.kind != "adversarial":
            continue
        p = cell.params
        spec = data_spec(p["data"], None, None)
        if p["dataset"] not in datasets:
            data = load_data(spec.model_copy(update={"data_dir": str(DATA / spec.name)}))
            datasets[p["dataset"]] = (data, dataset_fingerprint(data))
        dataset, fingerprint = datasets[p["dataset"]]
        setup = GridSetup(
            model=p["model"],
            protocol=p["protocol"],
            adversary=AdversaryConfig.model_validate(p["adversary"]),
            model_options=dict(p["model_options"]),
            split_params=dict(p["split_params"]),
            attackers=tuple(p["attackers"]),
            label_holdout=float(p["label_holdout"]),
        )
        today_options = make_model(
            p["model"], **setup.options(int(p["replicate"]))
        ).config.model_dump(mode="json")
        today_adversary = (
            None
            if p["lambdas"] is None
            else setup.adversary.with_lambdas(p["lambdas"]).model_dump(mode="json")
        )
        matches = [
            (number, old)
            for number, old in old_records
            if old["dataset_fingerprint"] == fingerprint
            and old["protocol"].startswith(p["protocol"])
            and old["model"] == p["model"]
            and old["replicate"] == p["replicate"]
            and old["attackers"] == list(p["attackers"])
            and old["label_holdout"] == p["label_holdout"]
            and old["lambdas"] == p["lambdas"]
            and _adversary_equal(old["adversary"], today_adversary)
            and _same_resolved(old["model_options"], today_options)
        ]
        if not matches:
            missing.append(cell.label)
            continue
        number, old = max(matches, key=lambda m: m[1]["created"])  # the latest run of the cell
        record = {
            "format": RECORD_FORMAT,
            "kind": "adversarial",
            "config_hash": cell.hash,
            "label": cell.label,
            "params": cell.params,
            "deps": [],
            "protocol": {"split": old["protocol"], "attackers": p["attackers"]},
            "dataset": {"label": dataset.label, "fingerprint": old["dataset_fingerprint"]},
            "metrics": {k: v for k, v in old.items() if k not in ("versions", "created")},
            "per_user": None,
            "wall": {"train": float(old["train_seconds"]), "audit": float(old["audit_seconds"])},
            "versions": old.get("versions", {}),
            "commit": "unknown (adversarial_grid.py)",
            "machine": {},
            "started": old["created"],
            "created": old["created"],
            "converted_from": f"benchmarks/results/adversarial_grid.jsonl line {number}",
        }
        if not record_path(out, cell.hash).exists():
            write_record(out, record)
            converted += 1
    print(
        f"adversarial {config_path.name}: {converted} converted, {len(missing)} cells without a matching record"
    )
    for item in missing:
        print("  missing", item)


if __name__ == "__main__":
    if sys.argv[1] == "ultd":
        convert_ultd(Path(sys.argv[2]))
    else:
        convert_adversarial(HERE / "configs" / f"{sys.argv[1]}.yaml", Path(sys.argv[2]))
