"""The entry point the Airflow DAG launches: one stage of the CLI, flags as ``--key=value``."""
from __future__ import annotations

import argparse
import json
from typing import List, Optional

from pipelines import cli


def stage_main(argv: Optional[List[str]] = None) -> int:
    """``python -m pipelines.dag_entry --stage=STAGE --config=C --output=D [--input=I] [--registry=R] [beam flags]``.

    What the DAG's BeamRunPythonPipelineOperator runs (it passes everything as
    ``--key=value``): the CLI command ``STAGE`` with the remaining flags; ``--registry``
    sets ``registry.path`` (see :mod:`pipelines.registry`)."""
    parser = argparse.ArgumentParser(prog="python -m pipelines.dag_entry")
    parser.add_argument("--stage", required=True, choices=("sample", "curate", "mix"))
    parser.add_argument("--registry", default=None,
                        help="the corpus registry every stage reads and mix registers into (registry.path)")
    args, rest = parser.parse_known_args(argv)
    if args.registry:
        rest += ["--set", "registry.path=" + json.dumps(args.registry)]
    return cli.main([args.stage] + rest)


if __name__ == "__main__":
    cli.exit_now(stage_main())
