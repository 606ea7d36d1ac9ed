"""dataset_info.json: the corpus folder read as a LLaMA-Factory dataset directory.

LLaMA-Factory is not installed here; the test reads the file the way it does (one entry
per dataset; ``file_name`` a file or a folder of which it takes every entry, all of one
file type; ShareGPT ``columns`` and ``tags``) and checks it against the shards."""
import json
import os
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from publish import accounting
from tests.publish.test_card import mix_corpus

#: The file types LLaMA-Factory reads, by extension (its FILEEXT2TYPE).
FILE_TYPES = {"arrow": "arrow", "csv": "csv", "json": "json", "jsonl": "json", "parquet": "parquet", "txt": "text"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return mix_corpus(tmp_path_factory.mktemp("llamafactory"), "card: {dataset_name: arith_traces}\n")


def test_dataset_info_describes_the_shards_as_sharegpt(corpus):
    info = json.load(open(os.path.join(corpus, "dataset_info.json")))
    manifest = json.load(open(os.path.join(corpus, "manifest.json")))
    assert manifest["card"]["dataset_info"] == "dataset_info.json"
    assert list(info) == ["arith_traces"]
    entry = info["arith_traces"]
    assert entry["formatting"] == "sharegpt" and "hf_hub_url" not in entry and "script_url" not in entry
    # file_name: a folder of the corpus whose every entry is a file of one type LLaMA-Factory reads
    folder = os.path.join(corpus, entry["file_name"])
    names = os.listdir(folder)
    assert os.path.isdir(folder) and names
    assert {FILE_TYPES.get(name.split(".")[-1]) for name in names} == {"parquet"}
    shards = sorted(os.path.join(corpus, f["path"]) for f in manifest["outputs"]["data/train"]["files"])
    assert sorted(os.path.join(folder, n) for n in names) == shards
    # the mapped column is in every shard: a list of {role_tag, content_tag} turns
    tags = entry["tags"]
    messages = entry["columns"]["messages"]
    for path in shards:
        field = pq.read_schema(path).field(messages)
        assert pa.types.is_list(field.type)
        assert {f.name for f in field.type.value_type} == {tags["role_tag"], tags["content_tag"]}
        for turns in pq.read_table(path, columns=[messages]).column(0).to_pylist():
            roles = [t[tags["role_tag"]] for t in turns]
            if roles[0] == tags["system_tag"]:
                roles = roles[1:]
            # ShareGPT: user and assistant alternate, the user first, the assistant last
            assert roles == [tags["user_tag"], tags["assistant_tag"]] * (len(roles) // 2) and roles
            assert all(isinstance(t[tags["content_tag"]], str) and t[tags["content_tag"]] for t in turns)
    assert set(entry["columns"]) <= {"messages", "system", "tools", "images"}


def _copy(corpus, tmp_path):
    folder = tmp_path / "corpus"
    shutil.copytree(corpus, folder)
    return folder


def test_verify_checks_the_card_files_and_dataset_info(corpus, tmp_path):
    accounting.verify_manifest(corpus, upstream=False)
    folder = _copy(corpus, tmp_path)
    (folder / "data" / "notes.txt").write_text("not a shard")
    os.mkdir(folder / "data" / ".tmp")
    info = json.load(open(folder / "dataset_info.json"))
    info["arith_traces"]["columns"]["messages"] = "conversations"
    (folder / "dataset_info.json").write_text(json.dumps(info))
    os.remove(folder / "plots" / "funnel.png")
    with pytest.raises(accounting.ManifestError) as caught:
        accounting.verify_manifest(str(folder), upstream=False)
    message = str(caught.value)
    assert "columns not in the shards: conversations" in message
    assert "LLaMA-Factory reads every file in it): .tmp, notes.txt" in message
    assert "card: listed file missing" in message and "funnel.png" in message
    os.remove(folder / "dataset_info.json")
    with pytest.raises(accounting.ManifestError, match="dataset_info.json: listed in the manifest but missing"):
        accounting.verify_manifest(str(folder), upstream=False)
