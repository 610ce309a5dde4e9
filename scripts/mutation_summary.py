"""Mutation-run helpers (see scripts/mutation.sh): counts per module, survivors, samples.

python scripts/mutation_summary.py                  # per-module table of mutants/
python scripts/mutation_summary.py --survivors      # one line per surviving mutant
python scripts/mutation_summary.py --sample 30      # 30 random mutant names per module
python scripts/mutation_summary.py --sample 30 --only sample.txt   # table of those only
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from pathlib import Path

STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", None: "pending"}
STATUS |= {code: "timeout" for code in (36, -24, 24, 152, 255)}
ROOT = Path.cwd() / "mutants" / "src"


def results() -> dict[str, dict[str, int | None]]:
    """Module path -> mutant name -> exit code (None: not run yet)."""
    out = {}
    for meta in sorted(ROOT.rglob("*.py.meta")):
        module = str(meta.relative_to(ROOT))[: -len(".meta")]
        out[module] = json.loads(meta.read_text())["exit_code_by_key"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--survivors", action="store_true")
    parser.add_argument("--sample", type=int, help="print this many mutant names per module")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", type=Path, help="count only the mutants named in this file")
    args = parser.parse_args()
    by_module = results()
    if args.sample:
        rng = random.Random(args.seed)
        for codes in by_module.values():
            names = sorted(codes)
            for name in sorted(rng.sample(names, min(args.sample, len(names)))):
                print(name)
        return
    if args.only:
        keep = set(args.only.read_text().split())
        by_module = {
            m: {k: c for k, c in codes.items() if k in keep} for m, codes in by_module.items()
        }
    if args.survivors:
        for codes in by_module.values():
            for key, code in sorted(codes.items()):
                if STATUS.get(code) in ("survived", "no tests"):
                    print(f"{STATUS[code]:9} {key}")
        return
    print(
        f"{'module':45} {'all':>5} {'killed':>6} {'surv':>5} {'notest':>6} {'tmo':>4} {'pend':>5}"
    )
    for module, codes in by_module.items():
        c = Counter(STATUS.get(code, "other") for code in codes.values())
        print(
            f"{module:45} {len(codes):5} {c['killed']:6} {c['survived']:5} {c['no tests']:6} "
            f"{c['timeout']:4} {c['pending']:5}"
        )


if __name__ == "__main__":
    main()
