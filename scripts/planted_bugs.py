"""Plant each of issue 26's six deliberate bugs in a scratch copy of the package and check that
the test named for it fails (a development check, not run in CI).

    python scripts/planted_bugs.py            # every bug: "caught" / "MISSED" per bug
    python scripts/planted_bugs.py --list     # the bugs and their tests

Each bug is one textual edit of one source file (the edit must apply exactly once, so a refactor
that moves the code makes the script fail loudly instead of testing nothing). The named tests
run against the edited copy through PYTHONPATH; the working tree is never touched. A control run
first checks that the named tests pass on the unedited copy. Exit status 1 when a bug passes
its tests.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Bug:
    """One planted bug: the edit and the tests that must fail."""

    title: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]


BUGS = (
    Bug(
        "chance level after a rare class is dropped: 1 / all classes, not 1 / classes present",
        "src/recunlearn/audit/core.py",
        'info["chance_bacc"] = 1.0 / int((counts > 0).sum())',
        'info["chance_bacc"] = 1.0 / attribute.n_classes',
        ("tests/audit/test_core.py::test_single_class_and_rare_class",),
    ),
    Bug(
        "LEGO's ball radius with another size factor (sqrt(N) instead of N)",
        "src/recunlearn/protect/posthoc/lego.py",
        "eps = config.eps_per_user * original.shape[0]",
        "eps = config.eps_per_user * original.shape[0] ** 0.5",
        ("tests/protect/posthoc/test_lego.py::test_ball_constraint_binds_and_holds",),
    ),
    Bug(
        "the brick store writes a brick straight to its final path",
        "src/recunlearn/protect/posthoc/store.py",
        '{"matrix": matrix.detach().contiguous().to(torch.float32)},\n                tmp,',
        '{"matrix": matrix.detach().contiguous().to(torch.float32)},\n                path,',
        (
            "tests/protect/posthoc/test_store.py::test_a_failed_brick_write_leaves_nothing",
            "tests/faults/test_kill.py::test_store_write_killed_at_random_moments",
        ),
    ),
    Bug(
        "the atomic byte writer writes in place",
        "src/recunlearn/core/atomic.py",
        'with os.fdopen(fd, "wb") as handle:',
        'os.close(fd)\n        with open(path, "wb") as handle:',
        ("tests/core/test_atomic_crash.py::test_a_failed_byte_write_keeps_the_old_file",),
    ),
    Bug(
        "the test evaluation masks only the training items (validation items recommended)",
        "src/recunlearn/data/splits.py",
        "test_known = _binary_csr(user[is_train | is_valid], item[is_train | is_valid], shape)",
        "test_known = train",
        (
            "tests/experiments/test_recommendations.py::"
            "test_recommendations_exclude_training_and_validation_items",
        ),
    ),
    Bug(
        "unlearn records its before / after metrics the wrong way round",
        "src/recunlearn/experiments/unlearn.py",
        "before, after = _evaluate(run, None), _evaluate(run, protected)",
        "after, before = _evaluate(run, None), _evaluate(run, protected)",
        ("tests/experiments/test_unlearn.py::test_unlearned_run_directory",),
    ),
)


def plant(bug: Bug, scratch: Path) -> None:
    """Copy ``src`` to ``scratch`` and apply ``bug`` there.

    Raises:
        SystemExit: the edit does not apply exactly once (the code moved: update the bug).
    """
    shutil.rmtree(scratch / "src", ignore_errors=True)
    shutil.copytree(ROOT / "src", scratch / "src")
    target = scratch / bug.file
    text = target.read_text()
    if text.count(bug.old) != 1:
        raise SystemExit(f"{bug.file}: the planted edit of '{bug.title}' no longer applies")
    target.write_text(text.replace(bug.old, bug.new))


def tests_fail(tests: tuple[str, ...], scratch: Path) -> bool:
    """Do ``tests`` fail against the copy in ``scratch``? (pytest exit 1; other codes abort)."""
    env = {**os.environ, "PYTHONPATH": str(scratch / "src")}
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"]
    result = subprocess.run([*command, *tests], cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode not in (0, 1):
        raise SystemExit(f"pytest could not run {tests}:\n{result.stdout}\n{result.stderr}")
    return result.returncode == 1


def main() -> int:
    """Plant every bug in turn; print the verdicts."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="print the bugs and their tests")
    args = parser.parse_args()
    if args.list:
        for number, bug in enumerate(BUGS, 1):
            print(f"{number}. {bug.title}\n   {bug.file}\n   " + "\n   ".join(bug.tests))
        return 0
    missed = 0
    with tempfile.TemporaryDirectory(prefix="planted-bugs-") as folder:
        # control: the unedited copy must pass every named test, or a "caught" means nothing
        shutil.copytree(ROOT / "src", Path(folder) / "src")
        if tests_fail(tuple(t for b in BUGS for t in b.tests), Path(folder)):
            raise SystemExit("the named tests fail without any planted bug: fix them first")
        for number, bug in enumerate(BUGS, 1):
            plant(bug, Path(folder))
            verdict = tests_fail(bug.tests, Path(folder))
            missed += not verdict
            print(f"{'caught' if verdict else 'MISSED'}  {number}. {bug.title}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
