"""Where the values of a config come from, so that an error can point there.

A config is read from a YAML file, then changed by the command line: ``--input``
replaces ``sources``, and every ``--set KEY=VALUE`` sets one dotted key
(``sample.n=8``, ``curate.filters.max_reasoning_tokens=4000``, ``sources[0].limit=5``)
to VALUE read as YAML (``8`` is a number, ``[0, 1]`` a list, ``null`` nothing).

:func:`read_yaml` keeps the line of every key of the file; :class:`Origins` turns
the key a :class:`ConfigError` names into ``FILE:LINE`` or the ``--set`` that gave it.
"""
from __future__ import annotations

import difflib
import re
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import yaml


class ConfigError(ValueError):
    """A config that can't be used; the message names the file, the line and the key.

    ``problems`` are ``(key, message)`` pairs (the key a dotted path such as
    ``sample.n`` or ``sources[0].path``, or None for the whole config) until
    :func:`pipelines.config.load_config` puts where each key came from in front."""

    def __init__(self, message: str, key: Optional[str] = None,
                 problems: Optional[List[Tuple[Optional[str], str]]] = None):
        self.problems = problems if problems is not None else [(key, message)]
        super().__init__("\n".join(msg for _, msg in self.problems))


def suggest(name: str, choices: Iterable[str]) -> Optional[str]:
    """The choice closest to a mistyped ``name`` (``-`` read as ``_``), or None."""
    by_norm = {c.replace("-", "_").lower(): c for c in choices}
    found = difflib.get_close_matches(name.replace("-", "_").lower(), list(by_norm), n=1, cutoff=0.6)
    return by_norm[found[0]] if found else None


# -- the file ----------------------------------------------------------------------


def _key_lines(node, prefix: str, lines: Dict[str, int]) -> None:
    """``{dotted key: 1-based line}`` for every mapping key and list item under ``node``."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            path = f"{prefix}.{key_node.value}" if prefix else str(key_node.value)
            lines.setdefault(path, key_node.start_mark.line + 1)
            _key_lines(value_node, path, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            path = f"{prefix}[{i}]"
            lines.setdefault(path, item.start_mark.line + 1)
            _key_lines(item, path, lines)


def read_yaml(path: str) -> Tuple[Any, Dict[str, int]]:
    """The data of a YAML file and the line of each of its keys (one parse: the node
    tree is composed first, then constructed)."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else path
        raise ConfigError(f"{where}: invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    lines: Dict[str, int] = {}
    if node is not None:
        _key_lines(node, "", lines)
    return data, lines


# -- dotted settings ---------------------------------------------------------------

_SEGMENT = re.compile(r"^([A-Za-z_][\w-]*)((?:\[\d+\])*)$")


def _steps(key: str, text: str) -> List[Any]:
    """``a.b[0].c`` → ``["a", "b", 0, "c"]``."""
    steps: List[Any] = []
    for part in key.split("."):
        match = _SEGMENT.match(part)
        if not match:
            raise ConfigError(f"--set {text}: {key!r} is not a dotted key like sample.n or sources[0].limit")
        steps.append(match.group(1))
        steps.extend(int(i) for i in re.findall(r"\[(\d+)\]", match.group(2)))
    return steps


def parse_setting(text: str) -> Tuple[str, List[Any], Any]:
    """``KEY=VALUE`` → (key, its steps, the value read as YAML)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set {text}: expected KEY=VALUE, e.g. sample.n=8")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        raise ConfigError(f"--set {text}: the value is not valid YAML: {exc}") from None
    return key, _steps(key, text), value


def apply_settings(data: dict, settings: Sequence[str]) -> Dict[str, str]:
    """Apply ``--set KEY=VALUE`` settings to ``data`` in order; returns ``{key: text}``.

    Missing mappings on the way are created (the config's checks then name a key
    that does not exist); a list item must already be there."""
    applied: Dict[str, str] = {}
    for text in settings:
        key, steps, value = parse_setting(text)
        node: Any = data
        for i, step in enumerate(steps):
            last = i == len(steps) - 1
            where = _render(steps[:i]) or "the config"
            if isinstance(step, int):
                if not isinstance(node, list) or step >= len(node):
                    size = f"{len(node)} item(s)" if isinstance(node, list) else "no list"
                    raise ConfigError(f"--set {text}: {where} has {size}, no [{step}]")
            elif not isinstance(node, dict):
                raise ConfigError(f"--set {text}: {where} is not a mapping")
            if last:
                node[step] = value
            else:
                if isinstance(node, dict) and node.get(step) is None and not isinstance(steps[i + 1], int):
                    node[step] = {}
                node = node[step] if isinstance(step, int) else node.get(step)
        applied[_render(steps)] = text
    return applied


def _render(steps: Sequence[Any]) -> str:
    out = ""
    for step in steps:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out


def _within(key: str, outer: str) -> bool:
    return key == outer or key.startswith(outer + ".") or key.startswith(outer + "[")


class Origins:
    """Where each key of a config came from: the file (with lines), ``--input``, ``--set``."""

    def __init__(self, path: Optional[str] = None, lines: Optional[Dict[str, int]] = None,
                 overridden: Iterable[str] = (), settings: Optional[Dict[str, str]] = None):
        self.path = path
        self.lines = lines or {}
        self.overridden = tuple(overridden)
        self.settings = settings or {}

    def line(self, key: Optional[str]) -> Optional[int]:
        """The file's line of ``key`` or of its closest ancestor there."""
        probe = key or ""
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = re.sub(r"(\.[^.\[]*|\[\d+\])$", "", probe) if re.search(r"[.\[]", probe) else ""
        return None

    def where(self, key: Optional[str]) -> Optional[str]:
        """``--set TEXT``, ``FILE:LINE``, ``FILE`` or None (defaults only) for a key."""
        if key:
            for setting, text in reversed(list(self.settings.items())):
                # the setting's key, a key under it, or a key above it that only the setting made
                if _within(key, setting) or (_within(setting, key) and key not in self.lines):
                    return f"--set {text}"
            if any(_within(key, name) for name in self.overridden):
                return "the command line"
            line = self.line(key)
            if line is not None:
                return f"{self.path}:{line}"
        return self.path

    def explain(self, error: ConfigError) -> ConfigError:
        """The error with each problem prefixed by where its key came from, in file order."""
        out = []
        problems = sorted(error.problems, key=lambda p: self.line(p[0]) or 0)
        for key, message in problems:
            where = self.where(key)
            out.append(f"{where}: {message}" if where else message)
        return ConfigError("\n".join(out), problems=[(None, m) for m in out])
