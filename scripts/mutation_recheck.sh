#!/usr/bin/env bash
# Re-check named mutants of a finished mutation run (scripts/mutation.sh) against the current
# tests, without mutmut's stats pass: each mutant runs the mirrored test files of its module in
# mutants/ (the tests are copied there first), with MUTANT_UNDER_TEST selecting the mutant.
# Only the mirrored files run (not every test that calls the function, as mutmut does), so a
# mutant reported "survived" here may still be killed by mutmut.
#
#   python scripts/mutation_summary.py --survivors | awk '{print $2}' > survivors.txt
#   scripts/mutation_recheck.sh survivors.txt      # prints "killed NAME" / "survived NAME"
set -uo pipefail
cd "$(dirname "$0")/.."
names=${1:?a file of mutant names}
[ -d mutants/src ] || { echo "no mutants/: run scripts/mutation.sh first" >&2; exit 2; }
cp -r tests/. mutants/tests/
tests_of() {
  case "$1" in
    recunlearn.core.atomic.*) echo tests/core/test_atomic.py tests/core/test_atomic_crash.py ;;
    recunlearn.protect.posthoc.store.*)  # its parallel-LEGO test alone takes seconds
      echo tests/protect/posthoc/test_store.py --deselect \
        tests/protect/posthoc/test_store.py::test_parallel_equals_serial ;;
    recunlearn.evaluation.*) echo tests/evaluation ;;
    recunlearn.audit.metrics.*) echo tests/audit/test_metrics.py ;;
    recunlearn.audit.scoring.*) echo tests/audit/test_scoring.py ;;
    recunlearn.audit.splits.*) echo tests/audit/test_splits.py ;;
    recunlearn.audit.core.*) echo tests/audit/test_core.py ;;
    recunlearn.data.splits.*) echo tests/data/test_splits.py ;;
    recunlearn.protect.posthoc.linear_erasure.*)
      echo tests/protect/posthoc/test_linear_erasure.py tests/protect/posthoc/test_contract.py ;;
    recunlearn.protect.posthoc.base.*)
      echo tests/protect/posthoc/test_base.py tests/protect/posthoc/test_contract.py ;;
    recunlearn.protect.posthoc.mmd.*) echo tests/protect/posthoc/test_d2dfr.py ;;
    recunlearn.protect.posthoc.*) echo tests/protect/posthoc/test_lego.py tests/protect/posthoc/test_contract.py ;;
    recunlearn.experiments.unlearn.*) echo tests/experiments/test_unlearn.py ;;
    *) echo "no test files for $1" >&2; return 1 ;;
  esac
}
# a python without pytest or the package would fail every mutant: a false "killed" for all
(cd mutants && PYTHONPATH="$PWD/src" python -c "import pytest, recunlearn") || {
  echo "this python cannot import pytest and recunlearn: activate the project's environment" >&2
  exit 2
}
for name in $(cat "$names"); do
  files=$(tests_of "$name") || continue
  (cd mutants && MUTANT_UNDER_TEST="$name" PYTHONPATH="$PWD/src" nice -n 10 \
    python -m pytest -x -q -p no:cacheprovider -p no:xdist $files >/dev/null 2>&1)
  # pytest: 0 = every test passed, 1 = a test failed; anything else is not a verdict
  case $? in
    0) echo "survived $name" ;;
    1) echo "killed $name" ;;
    *) echo "error $name (pytest could not run the tests)" ;;
  esac
done
