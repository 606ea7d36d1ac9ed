"""Config errors name the file and line (or the --set), suggest the closest key, report
every problem at once; dotted --set overrides are read as YAML and checked like the file."""
import os

import pytest

from pipelines import cli
from pipelines.config import ConfigError, load_config
from pipelines.config_source import apply_settings, read_yaml
from tests.pipelines.cli_support import write_config

BAD = """\
seed: 3
sample:
  n: 2
  temprature: 0.5
mix:
  reasoning: abc
curate:
  verify: {timeout_s: 5}
  filters:
    max_reasoning_tokens: 4000
    max_resoning_words: 10
sources:
  - {name: a, generator: arithmetic, count: 2}
  - name: b
    generator: countdown
    cuont: 3
"""


def test_every_problem_with_its_line_and_a_suggestion_in_file_order(tmp_path):
    path = write_config(tmp_path, BAD)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).splitlines() == [
        f"{path}:4: unknown key 'sample.temprature' (did you mean 'sample.temperature'?)",
        f"{path}:6: mix.reasoning: expected an integer, got 'abc'",
        f"{path}:11: unknown key 'curate.filters.max_resoning_words' (did you mean "
        f"'curate.filters.max_reasoning_tokens'?)",
        f"{path}:16: unknown key 'sources[1].cuont' (did you mean 'sources[1].count'?)",
    ]


def test_a_key_like_no_other_lists_the_known_keys_and_a_value_check_finds_its_line(tmp_path):
    path = write_config(tmp_path, "seed: 1\nmix:\n  zzz: 1\n")
    with pytest.raises(ConfigError, match=rf"^{path}:3: unknown key 'mix.zzz' \(known keys under mix: .*journey"):
        load_config(path)
    path = write_config(tmp_path, "seed: 1\nsample:\n  backend: fake\n  n: 0\n", name="n.yaml")
    with pytest.raises(ConfigError, match=rf"^{path}:4: sample: n: must be >= 1$"):
        load_config(path)
    path = write_config(tmp_path, "seed: 1\nmax_dead_letter_share: 2\n", name="m.yaml")
    with pytest.raises(ConfigError, match=rf"^{path}:2: config: max_dead_letter_share: must be in \[0, 1\]$"):
        load_config(path)


def test_invalid_yaml_names_its_line(tmp_path):
    path = write_config(tmp_path, "seed: 1\nsample:\n  n: [1\n")
    with pytest.raises(ConfigError, match=rf"^{path}:\d+: invalid YAML"):
        load_config(path)


def test_yaml_key_lines():
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
        fh.write(BAD)
    try:
        data, lines = read_yaml(fh.name)
    finally:
        os.unlink(fh.name)
    assert data["sources"][1]["cuont"] == 3
    assert lines["sample"] == 2 and lines["curate.verify.timeout_s"] == 8
    assert lines["sources[0]"] == 13 and lines["sources[0].count"] == 13 and lines["sources[1].name"] == 14


@pytest.mark.parametrize("settings, check", [
    (["sample.n=8"], lambda c: c.sample.n == 8),
    (["curate.filters.max_reasoning_tokens=4000"], lambda c: c.curate.filters.max_reasoning_tokens == 4000),
    (["sample.temperature=0.25", "sample.n=3"], lambda c: (c.sample.temperature, c.sample.n) == (0.25, 3)),
    (["sources[1].count=5"], lambda c: c.sources[1].count == 5),
    (['sample.stop=["</answer>", "\\n\\n\\n"]'], lambda c: c.sample.stop == ("</answer>", "\n\n\n")),
    (["sample.stop=['a\\n']"], lambda c: c.sample.stop == ("a\\n",)),  # single quotes: no escapes
    (["sample.system_prompt=null"], lambda c: c.sample.system_prompt is None),
    (["sample.model=123"], lambda c: c.sample.model == "123"),
    (["seed=9", "seed=10"], lambda c: c.seed == 10),  # the last one wins
])
def test_dotted_settings_are_read_as_yaml(settings, check):
    assert check(load_config("configs/demo.yaml", settings=settings))


@pytest.mark.parametrize("setting, message", [
    ("sample.nn=8", "--set sample.nn=8: unknown key 'sample.nn' (did you mean 'sample.n'?)"),
    ("sampel.n=8", "--set sampel.n=8: unknown key 'sampel' (did you mean 'sample'?)"),
    ("sample.n=many", "--set sample.n=many: sample.n: expected an integer, got 'many'"),
    ("sample.n=0", "--set sample.n=0: sample: n: must be >= 1"),
    ("sources[7].count=1", "--set sources[7].count=1: sources has 6 item(s), no [7]"),
    ("seed.x=1", "--set seed.x=1: seed is not a mapping"),
    ("sample.n", "--set sample.n: expected KEY=VALUE"),
    ("sample..n=1", "--set sample..n=1: 'sample..n' is not a dotted key"),
    ("sample.n=[1", "--set sample.n=[1: the value is not valid YAML"),
])
def test_bad_settings_name_the_setting(setting, message):
    with pytest.raises(ConfigError) as err:
        load_config("configs/demo.yaml", settings=[setting])
    assert str(err.value).startswith(message)


def test_settings_create_missing_sections():
    data = {"seed": 1}
    assert apply_settings(data, ["output.compression=snappy"]) == {"output.compression": "output.compression=snappy"}
    assert data == {"seed": 1, "output": {"compression": "snappy"}}


def test_the_cli_checks_config_and_settings_before_anything_runs(tmp_path, capsys, monkeypatch):
    from pipelines import sample

    monkeypatch.setattr(sample, "run", lambda *a, **k: pytest.fail("a stage ran with a bad config"))
    out = tmp_path / "o"
    config = write_config(tmp_path, BAD)
    assert cli.main(["sample", "--config", config, "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"reasoning-corpus: error: {config}:4: unknown key 'sample.temprature'" in err
    assert f"{config}:16: unknown key 'sources[1].cuont'" in err and "Traceback" not in err
    good = write_config(tmp_path, "sample: {backend: fake}\n", name="good.yaml")
    assert cli.main(["sample", "--config", good, "--output", str(out), "--set", "sample.temprature=1"]) == 2
    assert ("reasoning-corpus: error: --set sample.temprature=1: unknown key 'sample.temprature' "
            "(did you mean 'sample.temperature'?)") in capsys.readouterr().err
    assert not out.exists()
