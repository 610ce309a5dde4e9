"""``recunlearn``: one command with subcommands, one file each in this folder.

Each command only parses its options, loads a config and calls :mod:`recunlearn.experiments` (or
the benchmark runner and the report); results go to stdout, errors and warnings to stderr.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from recunlearn.cli.audit import audit
from recunlearn.cli.bench import bench
from recunlearn.cli.data import data_app
from recunlearn.cli.debias import debias
from recunlearn.cli.demo import demo
from recunlearn.cli.evaluate import evaluate
from recunlearn.cli.report import report
from recunlearn.cli.train import train
from recunlearn.cli.unlearn import unlearn

app = typer.Typer(
    help="Audit, remove and debias protected-attribute information in recommender models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log details")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


app.add_typer(data_app, name="data")
for command in (train, evaluate, audit, unlearn, demo, debias, bench, report):
    app.command()(command)


def main() -> None:
    """Console entry point."""
    app()


if __name__ == "__main__":
    main()
