"""The top-level names pipelines/publish/transforms/schemas exist on PyPI: ours must win."""
import importlib
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("name", ["pipelines", "publish", "transforms", "schemas"])
def test_imports_resolve_inside_the_repo(name):
    module = importlib.import_module(name)
    assert os.path.dirname(os.path.abspath(module.__file__)) == os.path.join(ROOT, name)


def test_pypi_namesakes_are_not_installed():
    from importlib import metadata

    installed = {d.metadata["Name"].lower() for d in metadata.distributions() if d.metadata["Name"]}
    assert not installed & {"pipelines", "publish", "transforms", "schemas"}


def test_curate_and_mix_start_without_beams_run_inference():
    """Beam's RunInference imports torch (seconds, hundreds of MB): only the stages and
    steps that run a model import it (sample, the judge, journeys), not curate and mix."""
    import subprocess
    import sys

    code = ("import sys; import pipelines.cli, pipelines.curate, pipelines.mix; "
            "print(sorted(m for m in ('torch', 'apache_beam.ml.inference.base') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": ROOT})
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
