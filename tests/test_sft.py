"""The demo's corpus is SFT-ready: it loads with ``datasets`` and trains.

The corpus is the demo config's (configs/demo.yaml) with the fake teacher instead of
the real one, so it builds in seconds. One training step runs twice: in plain torch
(the tiny model's chat template, assistant-only labels, forward, backward, update)
and with TRL's SFTTrainer when trl is installed."""
import copy
import importlib.util
import math
import os
import sys

import pytest
import yaml

from pipelines.cli import DEMO_CONFIG, main

os.environ.setdefault("HF_HUB_OFFLINE", "1")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """(output folder, the corpus as a datasets.Dataset)."""
    import datasets

    tmp = tmp_path_factory.mktemp("sft")
    config = yaml.safe_load(open(DEMO_CONFIG))
    config["sample"].update(backend="fake", model="fake-teacher")
    path = tmp / "demo-fake.yaml"
    path.write_text(yaml.safe_dump(config))
    out = str(tmp / "demo")
    assert main(["run", "--config", str(path), "--output", out]) == 0
    ds = datasets.load_dataset("parquet", data_files=os.path.join(out, "data", "train-*.parquet"), split="train")
    return out, ds


@pytest.fixture(scope="module")
def tiny_model():
    """The tiny model's tokenizer and trainable float32 weights, one torch thread.

    The GGUF file is dequantized on load, but the model still counts as quantized for
    ``Trainer``; the weights are copied into a plain model of the same architecture."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from transforms.models.backends.base import resolve_model
    from transforms.sample.config import SampleConfig

    torch.set_num_threads(1)
    path, kwargs = resolve_model(SampleConfig(model="smollm2"))
    tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
    loaded = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, **kwargs)
    config = copy.deepcopy(loaded.config)
    config.quantization_config = None
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    return tokenizer, model


def test_demo_corpus_loads_with_datasets(corpus):
    import json

    out, ds = corpus
    manifest = json.load(open(os.path.join(out, "manifest.json")))
    assert len(ds) == manifest["rows"] > 0
    assert {"messages", "kind", "journey", "rollout_ids", "verdict"} <= set(ds.column_names)
    for row in ds:
        assert [m["role"] for m in row["messages"]] == ["user", "assistant"]
        assert row["messages"][0]["content"] == row["problem"]
        assert row["rollout_ids"]
        # the demo's imported conversations are kept as they came (verify: none)
        assert row["verdict"] == ("correct" if row["kind"] == "reasoning" else "unverifiable")
    assert set(ds["kind"]) == {"reasoning", "knowledge"}


def sft_features(tokenizer, messages, max_length=256):
    """input_ids and labels of one conversation: the loss covers the assistant turn only."""
    prompt = tokenizer.apply_chat_template(messages[:-1], tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template(messages, tokenize=False)
    assert full.startswith(prompt), "the chat template must render the prompt as a prefix"
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    ids = tokenizer(full, add_special_tokens=False)["input_ids"][:max_length]
    labels = [-100] * min(len(prompt_ids), len(ids)) + ids[len(prompt_ids):]
    return ids, labels


def test_one_training_step_with_the_tiny_models_chat_template(corpus, tiny_model):
    import torch

    _, ds = corpus
    tokenizer, model = tiny_model
    rows = [sft_features(tokenizer, ds[i]["messages"]) for i in range(min(4, len(ds)))]
    answer = ds[0]["messages"][1]["content"]
    assert tokenizer.decode([t for t in rows[0][1] if t != -100]).startswith(answer)
    width = max(len(ids) for ids, _ in rows)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    input_ids = torch.tensor([ids + [pad] * (width - len(ids)) for ids, _ in rows])
    labels = torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in rows])
    mask = torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in rows])
    model.train()
    before = model.lm_head.weight.detach().clone()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    loss = model(input_ids=input_ids, attention_mask=mask, labels=labels).loss
    loss.backward()
    assert math.isfinite(loss.item()) and loss.item() > 0
    assert model.lm_head.weight.grad.abs().sum().item() > 0
    optimizer.step()
    optimizer.zero_grad()
    assert not torch.equal(before, model.lm_head.weight.detach())


def _hide_broken_torchvision(monkeypatch):
    """A torchvision built for another torch breaks transformers' processor imports (TRL
    needs them); text-only training doesn't use it, so hide it when it can't import."""
    if importlib.util.find_spec("torchvision") is None:
        return
    try:
        import torchvision  # noqa: F401
    except Exception:  # noqa: BLE001 - any import failure means: unusable here
        monkeypatch.setitem(sys.modules, "torchvision", None)


def test_one_step_of_trl_sft_trainer(corpus, tiny_model, tmp_path, monkeypatch):
    if importlib.util.find_spec("trl") is None:
        pytest.skip("trl is not installed (pip install trl)")
    _hide_broken_torchvision(monkeypatch)
    from trl import SFTConfig, SFTTrainer

    _, ds = corpus
    tokenizer, model = tiny_model
    # the corpus exactly as loaded (every column): TRL must take the conversational path
    train = ds
    args = SFTConfig(output_dir=str(tmp_path), max_steps=1, per_device_train_batch_size=2, learning_rate=1e-4,
                     max_length=256, report_to=[], save_strategy="no", logging_steps=1, use_cpu=True,
                     dataloader_num_workers=0, seed=0)
    trainer = SFTTrainer(model=model, args=args, train_dataset=train, processing_class=tokenizer)
    assert "input_ids" in trainer.train_dataset.column_names
    result = trainer.train()
    assert result.global_step == 1
    assert math.isfinite(result.training_loss) and result.training_loss > 0


def _trl_step(train, model, tokenizer, tmp_path, monkeypatch):
    _hide_broken_torchvision(monkeypatch)
    from trl import SFTConfig, SFTTrainer

    args = SFTConfig(output_dir=str(tmp_path / "trl"), max_steps=1, per_device_train_batch_size=2,
                     learning_rate=1e-4, max_length=256, report_to=[], save_strategy="no", logging_steps=1,
                     use_cpu=True, dataloader_num_workers=0, seed=0)
    trainer = SFTTrainer(model=model, args=args, train_dataset=train, processing_class=tokenizer)
    result = trainer.train()
    assert result.global_step == 1
    assert math.isfinite(result.training_loss) and result.training_loss > 0
    return trainer


@pytest.mark.parametrize("fmt", ["prompt-completion", "text"])
def test_exports_load_and_train_one_trl_step_as_loaded(fmt, corpus, tiny_model, tmp_path, monkeypatch):
    """``reasoning-corpus export`` as the README shows it, then the export loaded as a user
    loads it and trained as is: prompt-completion (loss on the completion only) and text."""
    import datasets

    if importlib.util.find_spec("trl") is None:
        pytest.skip("trl is not installed (pip install trl)")
    out, ds = corpus
    export_dir = str(tmp_path / fmt)
    command = ["export", out, "--format", fmt, "--output", export_dir]
    assert main(command + (["--tokenizer", "smollm2"] if fmt == "text" else [])) == 0
    train = datasets.load_dataset("parquet", data_files=os.path.join(export_dir, "data", "train-*.parquet"),
                                  split="train")
    assert len(train) == len(ds) and train["example_id"] == ds["example_id"]
    tokenizer, model = tiny_model
    if fmt == "text":
        assert train[0]["text"] == tokenizer.apply_chat_template(ds[0]["messages"], tokenize=False)
    else:
        assert [train[0]["prompt"] + train[0]["completion"]] == [ds[0]["messages"]]
    trainer = _trl_step(train, model, tokenizer, tmp_path, monkeypatch)
    if fmt == "prompt-completion":  # the loss covers the completion only: the prompt's labels are masked
        labels = trainer.train_dataset[0]["labels"]
        assert labels[0] == -100 and any(t != -100 for t in labels)
