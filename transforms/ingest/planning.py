"""Launcher side: the work plan of the sources, checked before the pipeline starts.

``check_sources`` checks every source's path and returns the work items ``ReadProblems``
reads: one per file, or one per source with a ``limit`` (its files in sorted order, one
after another), so a limited source's cut is the same on every runner and worker count.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

from transforms.core.readers import UnreadableInput, check_readable, count_records, expand_inputs
from transforms.ingest.config import SourceConfig

#: One unit of reading: (index into the sources, ((format, path), ...)).
WorkItem = Tuple[int, Tuple[Tuple[str, str], ...]]


def source_inputs(source: SourceConfig) -> List[Tuple[str, str]]:
    """The (format, path) inputs of one source, in reading order (globs expanded, sorted)."""
    if source.is_generator:
        return [("generator", f"generator:{source.generator}")]
    assert source.path is not None  # SourceConfig: a source that is no generator has a path
    return expand_inputs(source.path, source.format, owner=f"source {source.name!r}")


def plan_work(sources: Tuple[SourceConfig, ...]) -> List[WorkItem]:
    """Work items for ``ReadProblems``: one per file, or one per source with a ``limit``."""
    items: List[WorkItem] = []
    for index, source in enumerate(sources):
        inputs = source_inputs(source)
        if source.limit == 0:
            continue
        if source.limit is not None:
            items.append((index, tuple(inputs)))
        else:
            items.extend((index, (one,)) for one in inputs)
    return items


def check_sources(sources: Tuple[SourceConfig, ...]) -> List[WorkItem]:
    """Check every source's path before the pipeline starts; return the work plan.

    Raises ValueError naming the source and the path when a path matches no file, a
    ``datasets`` path is no directory, or a file's format can't be told, and naming the
    file when one can't be read at all (``readers.check_readable``: unopenable, a bad
    compression header, a Parquet file without its footer, a broken ``datasets`` folder). Source names
    must be unique (they seed the problem ids)."""
    seen = set()
    for source in sources:
        if source.name in seen:
            raise ValueError(f"source {source.name!r}: two sources have this name")
        seen.add(source.name)
    items = plan_work(sources)
    for index, inputs in items:
        for fmt, path in inputs:
            try:
                check_readable(fmt, path)
            except UnreadableInput as exc:
                raise UnreadableInput(f"source {sources[index].name!r}: {exc}") from None
    return items


def planned_records(sources: Tuple[SourceConfig, ...]) -> Optional[int]:
    """How many records the sources hold, each at most its ``limit``: the launcher's total
    of the problems to sample (bad lines, dead-lettered at ingest, are in it too). None
    when a source can't tell without reading it all (an ``hf:`` id without a limit)."""
    total = 0
    for source in sources:
        if source.is_generator:
            count: Optional[int] = source.count if source.limit is None else min(source.count, source.limit)
        else:
            count = 0
            for fmt, path in source_inputs(source):
                left = None if source.limit is None else source.limit - count
                if left is not None and left <= 0:
                    break
                found = count_records(fmt, path, left)
                if found is None:
                    count = source.limit
                    break
                count += found
        if count is None:
            return None
        total += count
    return total
