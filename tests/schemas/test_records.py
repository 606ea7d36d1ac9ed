"""Records: RowCoder round trips, derived Arrow schemas pinned by golden files."""
import os

import apache_beam as beam
import pytest

import schemas
from schemas.arrow import arrow_schema, describe_json
from schemas.records import RECORD_TYPES, Message, Rollout, SftExample, from_dict, to_dict

GOLDEN = os.path.join(os.path.dirname(schemas.__file__), "golden")


@pytest.mark.parametrize("name", sorted(RECORD_TYPES))
def test_arrow_schema_matches_golden(name):
    with open(os.path.join(GOLDEN, f"{name}.json"), encoding="utf-8") as fh:
        golden = fh.read()
    assert describe_json(RECORD_TYPES[name]) == golden, (
        f"{name}'s schema changed: bump SCHEMA_VERSION and regenerate schemas/golden "
        f"(python -m schemas.arrow)")


@pytest.mark.parametrize("name", sorted(RECORD_TYPES))
def test_every_record_has_a_row_coder(name):
    assert isinstance(beam.coders.registry.get_coder(RECORD_TYPES[name]), beam.coders.RowCoder)


def test_every_record_carries_provenance():
    for name, cls in RECORD_TYPES.items():
        assert {"config_hash", "schema_version"} <= set(cls._fields), name
    for cls in (Rollout, SftExample):
        assert {"source", "problem_id", "teacher_model", "sample_index", "seed"} <= set(cls._fields)


def test_corpus_columns_are_not_read_as_another_dataset_format():
    """TRL's SFTTrainer picks its path from column names: ``prompt`` (with or without
    ``completion``) means prompt-completion data, ``text`` plain text, ``conversations``
    ShareGPT; the corpus is conversational through ``messages`` alone."""
    columns = set(SftExample._fields)
    assert "messages" in columns
    assert not columns & {"prompt", "completion", "text", "conversations", "chosen", "rejected",
                          "input_ids", "labels", "attention_mask"}


def _example(**kw):
    values = {name: None for name in SftExample._fields}
    values.update(example_id="e1", kind="reasoning", messages=[Message("user", "q"), Message("assistant", "a")],
                  problem="q", reasoning="r", answer="a", verdict="correct", verifier="v", source="s",
                  source_id="1", domain="math", problem_id="p", rollout_ids=["r1"], teacher_model="m",
                  sample_index=0, sample_seed=1, prompt_tokens=1, completion_tokens=2, pass_rate=0.5, reasoning_tokens_before=3, reasoning_tokens_after=2,
                  seed=1, config_hash="h", schema_version="1.0")
    values.update(kw)
    return SftExample(**values)


def test_row_coder_round_trip_with_nested_messages_and_nulls():
    coder = beam.coders.registry.get_coder(SftExample)
    ex = _example(reference_answer=None)
    assert coder.decode(coder.encode(ex)) == ex


def test_dict_round_trip_through_arrow():
    import pyarrow as pa

    ex = _example()
    table = pa.Table.from_pylist([to_dict(ex)], schema=arrow_schema(SftExample))
    assert from_dict(SftExample, table.to_pylist()[0]) == ex
    assert table.schema.field("messages").type == pa.list_(
        pa.struct([pa.field("role", pa.string(), False), pa.field("content", pa.string(), False)]))
