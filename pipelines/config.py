"""YAML → frozen dataclasses, once, on the launcher.

Unknown keys and values of the wrong type are errors naming the file, the line and
the key's full path (``c.yaml:4: curate.verify.timeout_s: expected a number, got
'abc'``; ``c.yaml:7: unknown key 'mix.knowlege' (did you mean 'mix.knowledge'?)``),
or the ``--set`` that gave the value (see :mod:`pipelines.config_source`). Stage
configs live next to their transforms; this module composes them into ``RunConfig``
and computes the config hash stored on every output row and in the manifest.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import typing
from typing import Any, List, Optional, Sequence, Tuple

from pipelines.config_source import ConfigError, Origins, apply_settings, read_yaml, suggest
from pipelines.problems import ProblemsConfig
from publish.card_meta import CardConfig
from publish.registry import RegistryConfig
from transforms.core.verification import verify_method
from transforms.decontam.config import DecontamConfig
from transforms.dedup.config import DedupConfig
from transforms.filters.config import FilterConfig
from transforms.ingest.config import IngestConfig, SourceConfig
from transforms.mix.config import MixConfig
from transforms.sample.config import SampleConfig, apply_profile
from transforms.verify.config import VerifyConfig

__all__ = ["ConfigError", "RunConfig", "build_dataclass", "config_hash", "load_config"]


@dataclasses.dataclass(frozen=True)
class CurateConfig:
    verify: VerifyConfig = VerifyConfig()
    filters: FilterConfig = FilterConfig()
    decontam: DecontamConfig = DecontamConfig()
    dedup: DedupConfig = DedupConfig()


#: Parquet compressions the output writers accept.
COMPRESSIONS = ("zstd", "snappy", "gzip", "none")


@dataclasses.dataclass(frozen=True)
class OutputConfig:
    """How the intermediate stages (sample, curate) write their Parquet shards.

    Changes no row, so it is not part of the config hash. The corpus shards are
    the mix stage's own output (``mix.max_rows_per_shard``, ``mix.compression``)."""

    max_rows_per_shard: int = 50_000
    compression: str = "zstd"

    def __post_init__(self):
        if self.max_rows_per_shard < 1:
            raise ValueError("max_rows_per_shard: must be >= 1")
        if self.compression not in COMPRESSIONS:
            raise ValueError(f"compression: must be one of {', '.join(COMPRESSIONS)}, got {self.compression!r}")


@dataclasses.dataclass(frozen=True)
class Price:
    """Per-million-token prices of one model; both 0 (the default): not set, so its
    cost shows as unknown (free, or not told)."""

    prompt_per_million: float = 0.0
    completion_per_million: float = 0.0

    def __post_init__(self):
        for name in ("prompt_per_million", "completion_per_million"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name}: must be a number >= 0 (a price per million tokens), got {value!r}")

    @property
    def is_set(self) -> bool:
        return bool(self.prompt_per_million or self.completion_per_million)


@dataclasses.dataclass(frozen=True)
class CostConfig:
    """What the model calls cost, shown while a run goes, in its summary and in every
    stage manifest (``cost``): the per-million-token prices of the teacher (the sample
    model: sampling, journey probes and reflections) and of the judge. Changes no row,
    so it is not part of the config hash."""

    currency: str = "USD"
    teacher: Price = Price()
    judge: Price = Price()
    #: accelerators the teacher holds while sampling, for accelerator seconds per example
    #: (0: vLLM's tensor_parallel_size, 1 for transformers on a GPU, none on CPU or a server)
    accelerators: int = 0

    def __post_init__(self):
        if not self.currency.strip() or len(self.currency) > 8:
            raise ValueError(f"currency: must be a short name like USD, got {self.currency!r}")
        if self.accelerators < 0:
            raise ValueError(f"accelerators: must be 0 or more, got {self.accelerators}")


@dataclasses.dataclass(frozen=True)
class ProgressConfig:
    """The live progress of local runs on stderr: bars on a terminal, else (CI, Airflow
    logs) a progress line at most every ``log_every_s`` seconds. Changes no row: not hashed."""

    log_every_s: float = 30.0

    def __post_init__(self):
        if not math.isfinite(self.log_every_s) or self.log_every_s <= 0:
            raise ValueError(f"log_every_s: must be > 0, got {self.log_every_s!r}")


#: Sections of RunConfig that decide no output row: left out of the config hash
#: (``card``: the dataset card's metadata, see :class:`publish.card_meta.CardConfig`).
UNHASHED_SECTIONS = ("output", "cost", "progress", "card", "registry")

#: Run-level settings that decide no output row but were hashed before that was seen:
#: hashed at the value they had then, whatever they are set to now, so that every
#: config that left them alone (the demo's, the defaults) keeps its hash.
HASHED_AS = {"max_dead_letter_share": 1.0}

#: Settings inside a section that decide no row (how the teacher is reached, how fast):
#: hashed at the value they had when first hashed (``HASHED_AS``'s rule), or never
#: hashed when they came later (``None``), so configs that leave them alone keep their hash.
HASHED_AS_IN = {("sample", "concurrency"): 16, ("sample", "base_urls"): None,
                ("sample", "requests_per_minute"): None, ("sample", "tokens_per_minute"): None,
                ("sample", "health_check_s"): None}

#: Sections added after configs were hashed (paths of attribute names), left out of the
#: hash while at their defaults, so that configs that don't use them keep their hash.
HASHED_WHEN_SET = {("mix", "prune"), ("mix", "selection"), ("mix", "no_cot"), ("mix", "length_caps"),
                   ("mix", "knowledge_format", "no_think"), ("curate", "filters", "by_kind"),
                   ("curate", "verify", "judge", "rubric"), ("sample", "imports"), ("sample", "profile"),
                   ("sample", "adaptive"),
                   ("sample", "templates")}

#: Top-level sections added later, left out of the hash while at their defaults (off).
TOP_HASHED_WHEN_SET = ("problems",)
#: Source settings added after configs were hashed, left out of a source's hash while unset (None).
SOURCE_HASHED_WHEN_SET = ("verify", "template", "rule")

#: The default of ``max_dead_letter_share``: a stage that loses more than half of its
#: inputs to errors (a wrong preset, an unreachable server) fails the run.
DEFAULT_MAX_DEAD_LETTER_SHARE = 0.5


@dataclasses.dataclass(frozen=True)
class RunConfig:
    seed: int = 1234
    sources: Tuple[SourceConfig, ...] = ()
    ingest: IngestConfig = IngestConfig()
    problems: ProblemsConfig = ProblemsConfig()  # curated before sampling (off by default)
    sample: SampleConfig = SampleConfig()
    curate: CurateConfig = CurateConfig()
    mix: MixConfig = MixConfig()
    output: OutputConfig = OutputConfig()
    cost: CostConfig = CostConfig()
    progress: ProgressConfig = ProgressConfig()
    card: CardConfig = CardConfig()
    registry: RegistryConfig = RegistryConfig()
    #: a stage whose dead letters exceed this share of its inputs fails the run
    #: (1.0: never; the run still reports every dead letter). Decides no row: not hashed.
    max_dead_letter_share: float = DEFAULT_MAX_DEAD_LETTER_SHARE

    def __post_init__(self):
        if not 0.0 <= self.max_dead_letter_share <= 1.0:
            raise ValueError("max_dead_letter_share: must be in [0, 1]")
        for source in self.sources:
            if verify_method(source.verify_method).needs_judge and not self.curate.verify.judge.enabled:
                raise ValueError(f"sources: source {source.name!r} is verified by the judge (verify: "
                                 f"{source.verify_method}), which needs curate.verify.judge.enabled: true")
            if source.template is not None:
                self.sample.templates.resolve(source.template, source.name)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def config_hash(self) -> str:
        return config_hash(self)


def config_hash(config) -> str:
    """sha256 of the canonical JSON of the config (what decides the output rows; the
    sections in ``UNHASHED_SECTIONS`` are left out, the fields in ``HASHED_AS`` enter
    at their fixed value)."""
    data = dataclasses.asdict(config)
    for name in UNHASHED_SECTIONS:
        data.pop(name, None)
    data.update(HASHED_AS)
    for source in data.get("sources", ()):
        for name in SOURCE_HASHED_WHEN_SET:
            if source.get(name) is None:
                source.pop(name, None)
    for (section, name), fixed in HASHED_AS_IN.items():
        if isinstance(data.get(section), dict) and name in data[section]:
            if fixed is None:
                data[section].pop(name)
            else:
                data[section][name] = fixed
    for path in HASHED_WHEN_SET:
        value: Any = config
        parent: Any = data
        for depth, name in enumerate(path):
            value = getattr(value, name, None)
            if depth < len(path) - 1:
                parent = parent.get(name) if isinstance(parent, dict) else None
        if value is not None and value == type(value)() and isinstance(parent, dict):
            parent.pop(path[-1], None)
    for section in TOP_HASHED_WHEN_SET:
        value = getattr(config, section, None)
        if value is not None and value == type(value)():
            data.pop(section, None)
    canonical = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def _convert(value: Any, typ: Any, path: str) -> Any:
    origin = typing.get_origin(typ)
    if origin is typing.Union:
        args = typing.get_args(typ)
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _convert(value, inner[0], path)
    if dataclasses.is_dataclass(typ):
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise ConfigError(f"{path or 'config'}: expected a mapping, got {value!r}", path)
        return build_dataclass(typ, value, path)
    if origin in (tuple, list):
        args = typing.get_args(typ)
        if value is None:
            value = []
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise ConfigError(f"{path}: expected a list, got {value!r}", path)
        inner = args[0]
        return tuple(_convert(v, inner, f"{path}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: expected a mapping, got {value!r}", path)
        _, vtyp = typing.get_args(typ)
        return tuple(sorted((str(k), _convert(v, vtyp, f"{path}.{k}")) for k, v in value.items()))
    if typ is typing.Any:
        return value
    if typ is bool:
        if isinstance(value, bool):
            return value
    elif typ is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif typ is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif typ is str:
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
    else:
        raise ConfigError(f"{path}: unsupported config type {typ!r}", path)
    raise ConfigError(f"{path}: expected {_TYPE_NAMES[typ]}, got {value!r}", path)


def build_dataclass(cls, data: dict, path: str = ""):
    """Build a frozen dataclass from a mapping, rejecting unknown keys by full path
    (with the closest known key as a suggestion)."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    where = f"{path}." if path else ""
    problems: List[Tuple[Optional[str], str]] = []
    for key in (str(k) for k in data if k not in names):
        close = suggest(key, names)
        hint = (f"did you mean '{where}{close}'?" if close else
                f"known keys{' under ' + path if path else ''}: {', '.join(sorted(names))}")
        problems.append((f"{where}{key}", f"unknown key '{where}{key}' ({hint})"))
    kwargs = {}
    for name in names:
        if name in data:
            try:
                kwargs[name] = _convert(data[name], hints[name], f"{where}{name}")
            except ConfigError as exc:  # every problem of the config at once
                problems.extend(exc.problems)
    if problems:
        raise ConfigError("", problems=problems)
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as exc:
        field = str(exc).split(":", 1)[0].strip()
        bad_key = f"{where}{field}" if field in names else (path or None)
        raise ConfigError(f"{path or 'config'}: {exc}", bad_key) from None


def load_config(path: Optional[str] = None, overrides: Optional[dict] = None,
                settings: Sequence[str] = ()) -> RunConfig:
    """Read a YAML config (or the defaults), replace the top-level keys in ``overrides``
    (``--input``), apply the dotted ``settings`` (``--set sample.n=8``) and build the
    frozen RunConfig. Raises ConfigError naming the file and line (or the ``--set``)."""
    data: dict = {}
    lines: dict = {}
    if path:
        if not os.path.exists(path):
            raise ConfigError(f"config file not found: {path}")
        loaded, lines = read_yaml(path)
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: the top level must be a mapping")
        data = loaded
    for key, value in (overrides or {}).items():
        data[key] = value
    applied = apply_settings(data, settings)  # its own errors name the --set
    apply_profile(data.get("sample"))  # sample.profile fills the keys left out
    origins = Origins(path, lines, overridden=list(overrides or {}), settings=applied)
    try:
        return build_dataclass(RunConfig, data)
    except ConfigError as exc:
        raise origins.explain(exc) from None
