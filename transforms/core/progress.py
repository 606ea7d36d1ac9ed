"""Live progress from the workers to the launcher: small report files, summed.

A stage that shows progress taps a few of its PCollections with :func:`tap` (a
:class:`ReportProgress` side branch: it emits nothing and changes no record). The tap
adds up a few numbers per element (``measure``: element → ``{name: number}``; by
default ``{name: 1}``) and writes its running totals to one small JSON file under the
stage's progress folder: every ``interval_s`` seconds while they change (a thread of
the tap) and once at the end of each bundle, never once per element. The launcher
(:mod:`pipelines.progress`) sums every file of the folder with :func:`read_progress`
while the pipeline runs, and deletes the folder when the stage ends.

Files: each tap instance (one per DoFn instance, in whatever process the runner put it,
``multi_processing`` workers included) claims ``<name>.<pid>.<n>.json``, the first
``n`` it can create exclusively, then replaces that file with its totals (written
to ``<file>.tmp`` and renamed), so a reader never sees half a report and two instances
never share a file. Reports are local files: the launcher turns progress on for local
runs only. Progress is best effort: a report that can't be written is skipped, never
an error of the pipeline. A retried bundle may count its elements twice; the numbers
are for people watching, the manifest's counts come from the outputs.
"""
from __future__ import annotations

import json
import os
import threading
import time
from typing import Callable, Dict, Optional

import apache_beam as beam

Counts = Dict[str, int]
#: element → the numbers it adds to the report (``{"rollouts": 4, "completion_tokens": 310}``).
Measure = Callable[[object], Counts]
#: How often a running bundle writes its report, at most.
INTERVAL_S = 1.0
REPORT_SUFFIX = ".json"


class ProgressWriter:
    """Running totals of one tap instance and its report file (see the module doc).

    ``start()`` adds a daemon thread that writes what changed every ``interval_s``
    seconds (a burst of elements followed by a long model step is reported at once, not
    at the end of the bundle); it stops with ``stop()`` or once the folder is gone (the
    stage ended). Nothing here creates the folder: the launcher does, and once it has
    deleted it no late write can bring it back."""

    def __init__(self, folder: str, name: str, interval_s: float = INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic):
        self.folder = folder
        self.name = name
        self.interval_s = interval_s
        self.counts: Counts = {}
        self._clock = clock
        self._last = clock()
        self._dirty = False
        self._path: Optional[str] = None
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def add(self, counts: Counts) -> None:
        with self._lock:
            for key, value in counts.items():
                self.counts[key] = self.counts.get(key, 0) + value
            self._dirty = True

    def flush_if_due(self) -> None:
        if self._dirty and self._clock() - self._last >= self.interval_s:
            self.flush()

    def flush(self) -> None:
        """Write the totals (when anything changed since the last write)."""
        with self._lock:
            if not self._dirty:
                return
            self._dirty = False
            self._last = self._clock()
            try:
                path = self._claim()
                with open(path + ".tmp", "w", encoding="utf-8") as fh:
                    json.dump({"counts": self.counts}, fh)
                os.replace(path + ".tmp", path)
            except OSError:  # best effort: the folder is gone (the stage ended) or not writable
                pass

    def _claim(self) -> str:
        """This instance's report file: the first ``<name>.<pid>.<n>.json`` not taken."""
        if self._path is None:
            n = 0
            while True:
                path = os.path.join(self.folder, f"{self.name}.{os.getpid()}.{n}{REPORT_SUFFIX}")
                try:
                    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
                except FileExistsError:
                    n += 1
                    continue
                self._path = path
                break
        return self._path

    def start(self) -> "ProgressWriter":
        threading.Thread(target=self._tick, name=f"progress-{self.name}", daemon=True).start()
        return self

    def _tick(self) -> None:
        while not self._stop.wait(self.interval_s) and os.path.isdir(self.folder):
            self.flush_if_due()

    def stop(self) -> None:
        self._stop.set()
        self.flush()


def read_progress(folder: str) -> Counts:
    """The totals of every report under ``folder`` (``{}`` when there is none yet)."""
    totals: Counts = {}
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return totals
    for name in names:
        if not name.endswith(REPORT_SUFFIX):
            continue
        try:
            with open(os.path.join(folder, name), encoding="utf-8") as fh:
                counts = json.load(fh)["counts"]
            for key, value in counts.items():
                totals[key] = totals.get(key, 0) + int(value)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue  # just claimed (empty), or gone meanwhile
    return totals


class _ReportFn(beam.DoFn):
    def __init__(self, folder: str, name: str, measure: Optional[Measure], interval_s: float):
        self.folder = folder
        self.name = name
        self.measure = measure
        self.interval_s = interval_s
        self._writer: Optional[ProgressWriter] = None

    def setup(self):
        self._writer = ProgressWriter(self.folder, self.name, self.interval_s).start()

    def process(self, element):
        assert self._writer is not None  # made in setup
        self._writer.add(self.measure(element) if self.measure is not None else {self.name: 1})
        return ()

    def finish_bundle(self):
        if self._writer is not None:
            self._writer.flush()

    def teardown(self):
        if self._writer is not None:
            self._writer.stop()


class ReportProgress(beam.PTransform):
    """``pcoll | ReportProgress(folder, name, measure)``: a side branch that reports how
    many elements went by (or what ``measure`` makes of them) to ``folder``; its output
    is empty."""

    def __init__(self, folder: str, name: str, measure: Optional[Measure] = None,
                 interval_s: float = INTERVAL_S):
        super().__init__()
        self.folder = folder
        self.name = name
        self.measure = measure
        self.interval_s = interval_s

    def expand(self, pcoll):
        return pcoll | beam.ParDo(_ReportFn(self.folder, self.name, self.measure, self.interval_s))


def tap(pcoll, label: str, folder: Optional[str], name: str, measure: Optional[Measure] = None) -> None:
    """Report ``pcoll``'s elements under ``name`` to the progress ``folder``; nothing
    at all (no step is built) when ``folder`` is None (progress off, dry runs)."""
    if folder is None:
        return
    _ = pcoll | label >> ReportProgress(folder, name, measure)
