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
