"""The mix config: targets, quotas and their checks, loaded from YAML."""
import pytest

from pipelines.config import ConfigError, load_config
from transforms.mix.config import MixConfig


def test_targets_scale():
    assert MixConfig(scale=1 / 1000).targets() == {"reasoning": 600, "knowledge": 200}


@pytest.mark.parametrize("kwargs, message", [
    ({"quotas": {"reasoning": {"math": 0.5}}, "quota_field": "domain"}, "add up to 1"),
    ({"quotas": {"reasoning": {"math": 1.0}}}, "quota_field"),
    ({"quotas": {"chitchat": {"math": 1.0}}, "quota_field": "domain"}, "unknown kind"),
    ({"quotas": {"reasoning": {"math": 1.2, "code": -0.2}}, "quota_field": "domain"}, ">= 0"),
    ({"scale": 0}, "scale"),
])
def test_bad_mix_configs_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MixConfig(**kwargs)


def test_quotas_load_from_yaml_frozen_and_hashable(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("mix:\n  quota_field: domain\n  quotas: {reasoning: {math: 0.6, code: 0.4}}\n"
                    "  journey: {share: 0.2, modes: [splice, reflect]}\n"
                    "  knowledge_format: {cot: short, max_cot_words: 20}\n")
    config = load_config(str(path))
    assert config.mix.shares("reasoning") == {"code": 0.4, "math": 0.6}
    assert config.mix.journey.modes == ("splice", "reflect")
    assert config.mix.knowledge_format.cot == "short"
    hash(config.mix)
    assert config.config_hash == load_config(str(path)).config_hash
    path.write_text("mix: {quota_field: domain, quotas: {reasoning: {math: 0.6}}}\n")
    with pytest.raises(ConfigError, match="add up to 1"):
        load_config(str(path))
