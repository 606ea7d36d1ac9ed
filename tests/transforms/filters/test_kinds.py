"""Per-kind filter settings: knowledge answers written without thinking pass the format
filter, reasoning traces without thinking don't; each kind keeps its own verdicts; a bad
per-kind setting is a config error naming the kind."""
import pytest

from pipelines.config import ConfigError, load_config
from tests.factories import verified
from transforms.core import Drop
from transforms.filters.config import FilterConfig
from transforms.filters.kinds import KindFilters, KindOverrides, KnowledgeOverrides
from transforms.filters.transform import ApplyFilters

QUIET = dict(check_language=False)


def _answer_only(**kw):
    return verified(completion="Paris is the capital of France.", reasoning="",
                    answer="Paris is the capital of France.", **kw)


def test_knowledge_answers_need_no_reasoning_by_default_reasoning_traces_do():
    rule = ApplyFilters(FilterConfig(**QUIET))
    kept = _answer_only(kind="knowledge", domain="knowledge", prompt="What is the capital of France?")
    assert rule(kept) == kept
    dropped = rule(_answer_only())
    assert isinstance(dropped, Drop) and (dropped.step, dropped.reason) == ("filter_format", "empty_reasoning")


def test_each_kind_keeps_its_own_verdicts():
    config = FilterConfig(keep_verdicts=("correct",), by_kind=KindFilters(
        knowledge=KnowledgeOverrides(keep_verdicts=("correct", "unverifiable"))), **QUIET)
    rule = ApplyFilters(config)
    knowledge = _answer_only(kind="knowledge", verdict="unverifiable")
    assert rule(knowledge) == knowledge
    reasoning = verified(verdict="unverifiable")
    assert rule(reasoning).reason == "unverifiable"
    assert config.for_kind("knowledge").keep_verdicts == ("correct", "unverifiable")
    assert config.for_kind("knowledge").require_reasoning is False  # the knowledge default stays
    assert config.for_kind("reasoning") == FilterConfig(keep_verdicts=("correct",), by_kind=config.for_kind(
        "reasoning").by_kind, **QUIET)


def test_a_kind_can_require_reasoning_again_and_reasoning_can_drop_checks():
    config = FilterConfig(by_kind=KindFilters(reasoning=KindOverrides(max_distinct_boxed=0),
                                              knowledge=KnowledgeOverrides(require_reasoning=True)), **QUIET)
    assert isinstance(ApplyFilters(config)(_answer_only(kind="knowledge")), Drop)
    assert config.for_kind("reasoning").max_distinct_boxed == 0 and config.max_distinct_boxed == 1


def test_per_kind_settings_load_from_yaml_and_bad_ones_name_the_kind(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("curate:\n  filters:\n    by_kind:\n      knowledge:\n        keep_verdicts: [correct]\n"
                    "        check_language: false\n")
    knowledge = load_config(str(path)).curate.filters.for_kind("knowledge")
    assert knowledge.keep_verdicts == ("correct",) and not knowledge.check_language
    assert not knowledge.require_reasoning
    path.write_text("curate:\n  filters:\n    by_kind:\n      knowledge:\n        keep_verdicts: [great]\n")
    with pytest.raises(ConfigError, match=r"c.yaml:5.*keep_verdicts: unknown verdict\(s\) 'great'"):
        load_config(str(path))
    path.write_text("curate:\n  filters:\n    by_kind:\n      knowledge:\n        max_answer_tokens: -1\n")
    with pytest.raises(ConfigError, match="by_kind: knowledge: max_answer_tokens: must be >= 0"):
        load_config(str(path))
    path.write_text("curate:\n  filters:\n    by_kind:\n      chat:\n        check_language: false\n")
    with pytest.raises(ConfigError, match="unknown key 'curate.filters.by_kind.chat'"):
        load_config(str(path))
