"""A run that goes wrong exits non-zero, names the stage and quotes its first errors
verbatim from the dead-letter files: a wrong preset (every line dead at ingest), a
dead server, a server that refuses the model, an empty corpus."""
import glob
import os

import pyarrow.parquet as pq
import pytest

from pipelines import cli
from pipelines.config import load_config
from pipelines.failures import first_errors
from tests.backend_support import free_port
from tests.loopback import JsonHandler, serving
from tests.pipelines.cli_support import FAKE, GSM8K, write_config


def _dead_errors(folder):
    """Every dead letter's error text in the folder, read from its Parquet files."""
    return [e for path in sorted(glob.glob(os.path.join(folder, "dead_letters-*.parquet")))
            for e in pq.read_table(path, columns=["error"]).column("error").to_pylist()]


def _openai_config(tmp_path, base_url):
    return write_config(tmp_path, f"""\
seed: 5
sample: {{backend: openai, base_url: "{base_url}", model: x, n: 2, max_tokens: 16,
          max_retries: 0, timeout_s: 10, api_key_env: null}}
mix: {{reasoning: 10, knowledge: 0}}
""")


def test_a_wrong_preset_fails_at_ingest_with_the_first_errors(tmp_path, capsys):
    assert os.path.exists(GSM8K), "../shared/data/gsm8k is missing"
    out = tmp_path / "out"
    argv = ["run", "--config", write_config(tmp_path), "--input", GSM8K, "--preset", "math", "--limit", "2",
            "--output", str(out)]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    errors = _dead_errors(out / "sample")  # every line of the file (--limit counts problems made)
    n = len(errors)
    assert n > 1000
    assert "reasoning-corpus: error: stage sample failed: dead letters above max_dead_letter_share=0.5: " \
           f"ingest: {n} of {n} (100.0%)" in err
    assert f"test.jsonl:1 field 'problem': {errors[0]}  [{n} dead letters with this error]" in err
    assert not (out / "sample" / "manifest.json").exists() and not (out / "curate").exists()


def test_a_dead_server_fails_the_sample_stage_with_the_connection_error(tmp_path, capsys):
    base_url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    out = tmp_path / "out"
    argv = ["run", "--config", _openai_config(tmp_path, base_url), "--input", GSM8K, "--preset", "gsm8k",
            "--limit", "3", "--output", str(out)]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert "stage sample failed: dead letters above max_dead_letter_share=0.5: sample: 3 of 3 (100.0%)" in err
    errors = _dead_errors(out / "sample")
    assert len(errors) == 3 and "gave up after 1 attempts" in errors[0]
    assert errors[0] in err


class _NoSuchModel(JsonHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_json(400, b"model 'x' not found")


@pytest.fixture
def refusing_server():
    with serving(_NoSuchModel) as server:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"


def test_a_wrong_model_name_quotes_the_servers_answer(refusing_server, tmp_path, capsys):
    out = tmp_path / "s"
    config = write_config(tmp_path, FAKE.replace("count: 4", "count: 2"), name="gen.yaml")
    argv = ["sample", "--config", config, "--output", str(out),
            "--set", "sample.backend=openai", "--set", f"sample.base_url={refusing_server}",
            "--set", "sample.model=x", "--set", "sample.api_key_env=null"]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert "stage sample failed" in err and "sample: 2 of 2 (100.0%)" in err
    assert "RequestFailed: HTTP 400: model 'x' not found  [2 dead letters with this error]" in err
    assert set(_dead_errors(out)) == {"RequestFailed: HTTP 400: model 'x' not found"}


def test_an_empty_corpus_fails_naming_the_stage_that_kept_nothing(tmp_path, capsys):
    # every sample cut off at max_tokens: curate drops them all as truncated
    config = write_config(tmp_path, FAKE.replace("max_tokens: 32", "max_tokens: 32, fake_length_rate: 1.0"))
    out = tmp_path / "out"
    assert cli.main(["run", "--config", config, "--output", str(out)]) == 1
    err = capsys.readouterr().err
    assert "reasoning-corpus: error: stage mix failed: the corpus is empty: stage curate kept nothing " \
           "(8 in: kept 0, rejected 8, dead 0); top rejection reasons: curate/filter_truncation/truncated 8" in err
    assert (out / "manifest.json").exists()  # the empty corpus is published and accounted for


def test_below_the_limit_a_run_succeeds_and_the_limit_is_configurable(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["sample", "--config", write_config(tmp_path), "--input", GSM8K, "--preset", "math", "--limit", "2",
            "--output", str(out), "--set", "max_dead_letter_share=1.0"]
    assert cli.main(argv) == 0
    lines = sum(1 for line in open(GSM8K, encoding="utf-8") if line.strip())
    assert f"ingest   {lines} in = problems 0, rejected 0, dead {lines} (100.0% dead)" in capsys.readouterr().out


def test_first_errors_are_distinct_verbatim_and_counted():
    rows = [{"stage": "ingest", "step": "map", "file": "a.jsonl", "line": i, "field": "q",
             "error": "missing_field: no prompt" if i % 2 else f"wrong_type: line {i}"} for i in range(1, 10)]
    lines = first_errors(rows, limit=2)
    assert lines == ["ingest/map a.jsonl:1 field 'q': missing_field: no prompt  [5 dead letters with this error]",
                     "ingest/map a.jsonl:2 field 'q': wrong_type: line 2",
                     "… and 3 other distinct error(s)"]


def test_max_dead_letter_share_decides_no_row_so_it_changes_no_hash():
    default = load_config()
    assert default.max_dead_letter_share == 0.5
    assert load_config(settings=["max_dead_letter_share=0.1"]).config_hash == default.config_hash
    assert load_config(settings=["seed=1"]).config_hash != default.config_hash


def test_the_mix_stage_dead_letters_are_quoted_from_the_corpus_mix_folder(tmp_path):
    """The corpus folder keeps the mix stage's dead letters in mix/: a failure of mix (or of
    its journey step, whose rows carry the stage column "mix") quotes them from there."""
    from pipelines.failures import dead_letters, quote_errors
    from schemas.records import SCHEMA_VERSION, DeadLetter, to_dict
    from transforms.core import io as rio

    def letter(stage, error):
        return DeadLetter(f"{stage}-1", stage, "journey_probe" if stage == "mix" else "read", None, None, None,
                          error, "{}", "h", SCHEMA_VERSION)

    rio.write_table(rio.shard_path(str(tmp_path / "mix" / "dead_letters"), 0, 1),
                    [to_dict(letter("mix", "RequestFailed: teacher gone"))], DeadLetter)
    rio.write_table(rio.shard_path(str(tmp_path / "sample" / "dead_letters"), 0, 1),
                    [to_dict(letter("ingest", "invalid_json: x"))], DeadLetter)
    quoted = quote_errors(str(tmp_path), ["mix"])
    assert "mix/journey_probe: RequestFailed: teacher gone" in quoted
    assert os.path.join(str(tmp_path), "mix", "dead_letters-*.parquet") in quoted
    assert [r["error"] for r in dead_letters(str(tmp_path / "sample"), ["ingest"])] == ["invalid_json: x"]
    assert dead_letters(str(tmp_path), ["ingest"]) == []  # the corpus folder holds no stage's but mix's
