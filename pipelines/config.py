"""YAML → frozen dataclasses, once, on the launcher.

Unknown keys and values of the wrong type are errors naming the key's full path
(``curate.verify.timeout_s: expected a number, got 'abc'``). Stage configs live
next to their transforms; this module composes them into ``RunConfig`` and
computes the config hash stored on every output row and in the manifest.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import typing
from typing import Any, Optional, Tuple

import yaml

from transforms.ingest.config import IngestConfig, SourceConfig
from transforms.sample.config import SampleConfig
from transforms.verify.config import VerifyConfig
from transforms.filters.config import FilterConfig
from transforms.dedup.config import DedupConfig
from transforms.decontam.config import DecontamConfig
from transforms.mix.config import MixConfig


class ConfigError(ValueError):
    """A config that can't be used; the message names the file and the key."""


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


#: Sections of RunConfig that decide no output row: left out of the config hash.
UNHASHED_SECTIONS = ("output",)


@dataclasses.dataclass(frozen=True)
class RunConfig:
    seed: int = 1234
    sources: Tuple[SourceConfig, ...] = ()
    ingest: IngestConfig = IngestConfig()
    sample: SampleConfig = SampleConfig()
    curate: CurateConfig = CurateConfig()
    mix: MixConfig = MixConfig()
    output: OutputConfig = OutputConfig()
    #: a stage whose dead letters exceed this share of its inputs fails the run
    #: (1.0: never; the run still reports every dead letter)
    max_dead_letter_share: float = 1.0

    def __post_init__(self):
        if not 0.0 <= self.max_dead_letter_share <= 1.0:
            raise ValueError("max_dead_letter_share: must be in [0, 1]")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def config_hash(self) -> str:
        return config_hash(self)


def config_hash(config) -> str:
    """sha256 of the canonical JSON of the config (what decides the output rows; the
    sections in ``UNHASHED_SECTIONS`` are left out)."""
    data = dataclasses.asdict(config)
    for name in UNHASHED_SECTIONS:
        data.pop(name, None)
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
            raise ConfigError(f"{path or 'config'}: expected a mapping, got {value!r}")
        return build_dataclass(typ, value, path)
    if origin in (tuple, list):
        args = typing.get_args(typ)
        if value is None:
            value = []
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise ConfigError(f"{path}: expected a list, got {value!r}")
        inner = args[0]
        return tuple(_convert(v, inner, f"{path}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: expected a mapping, got {value!r}")
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
        raise ConfigError(f"{path}: unsupported config type {typ!r}")
    raise ConfigError(f"{path}: expected {_TYPE_NAMES[typ]}, got {value!r}")


def build_dataclass(cls, data: dict, path: str = ""):
    """Build a frozen dataclass from a mapping, rejecting unknown keys by full path."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - names)
    if unknown:
        where = f"{path}." if path else ""
        raise ConfigError(
            f"unknown key{'s' if len(unknown) > 1 else ''} "
            + ", ".join(f"'{where}{k}'" for k in unknown)
            + f" (allowed: {', '.join(sorted(names))})"
        )
    kwargs = {}
    for name in names:
        if name in data:
            kwargs[name] = _convert(data[name], hints[name], f"{path}.{name}" if path else name)
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{path or 'config'}: {exc}") from None


def load_config(path: Optional[str] = None, overrides: Optional[dict] = None) -> RunConfig:
    """Read a YAML config (or the defaults) and build the frozen RunConfig."""
    data: dict = {}
    if path:
        if not os.path.exists(path):
            raise ConfigError(f"config file not found: {path}")
        with open(path, encoding="utf-8") as fh:
            try:
                loaded = yaml.safe_load(fh)
            except yaml.YAMLError as exc:
                raise ConfigError(f"{path}: invalid YAML: {exc}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: the top level must be a mapping")
        data = loaded
    for key, value in (overrides or {}).items():
        data[key] = value
    try:
        return build_dataclass(RunConfig, data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}" if path else str(exc)) from None
