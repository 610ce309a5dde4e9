#!/usr/bin/env bash
# Mutation testing of the core modules (a development command; not run in CI).
#
#   scripts/mutation.sh                   # every mutant of [tool.mutmut] only_mutate
#   scripts/mutation.sh 'recunlearn.core.atomic*'   # one module (mutant-name pattern)
#
# Needs the dev extra (pip install -e '.[dev]'). Mutants, and the tests run against them,
# are chosen by [tool.mutmut] in pyproject.toml: each mutant runs only the tests of the
# selection that call the mutated function, one worker at a time (MUTATION_CHILDREN to change),
# under nice. Results stay in mutants/ (git-ignored): `mutmut results` lists the survivors,
# `mutmut show NAME` prints one. A rerun tests only new or changed mutants; delete mutants/
# for a fresh run. The last run and the survivors' reasons: benchmarks/notes/mutation.md.
set -euo pipefail
cd "$(dirname "$0")/.."
# tests that start a Python subprocess must import the mutated copy too
export PYTHONPATH="$PWD/mutants/src${PYTHONPATH:+:$PYTHONPATH}"
nice -n 10 mutmut run --max-children "${MUTATION_CHILDREN:-1}" "$@"
mutmut results
