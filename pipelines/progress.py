"""The live progress of a local run, on stderr: bars on a terminal, log lines elsewhere.

A stage launcher hands :func:`pipelines.launch.run_pipeline` a :class:`Plan`: its
meters (what the pipeline's taps report, :mod:`transforms.core.progress`, with the
totals the launcher knows before the pipeline runs: the ingest plan × ``sample.n``,
the upstream manifest's rows) and the prices of its model. While the pipeline runs, a
thread of the launcher sums the workers' report files (``<out>/.tmp/progress/``, the
workers may be other processes) every half second and shows them:

* stderr is a terminal: one tqdm bar per meter, with rate and ETA, tokens/s and the
  cost so far on the first;
* otherwise (CI, Airflow logs): a line on the ``pipelines.progress`` logger when the
  stage starts, at most every ``progress.log_every_s`` seconds, and when it ends::

      sample: prompts 12/24 (50%, 0.40/s), rollouts 48/96 (50%, 1.60/s); 35.2 tok/s,
      cost 0.0012 USD; 0:00:30 elapsed, ETA 0:00:30

  (one line; ``cost unknown (no prices set)`` while ``cost.teacher`` has no prices)

Progress is on for local runs (a local runner and a local output folder) when the
logger shows INFO, so ``--quiet`` (and ``--log-level WARNING``) show none, and the
pipeline then has no progress steps at all. When the stage ends, however it ends, the
progress folder is deleted, and its ``.tmp/`` folder too when nothing else is left in it.
"""
from __future__ import annotations

import logging
import os
import shutil
import sys
import threading
import time
import typing
from typing import Callable, Dict, Iterable, List, Optional, TextIO

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from pipelines.config import Price, RunConfig
from transforms.core import io as rio
from transforms.core.progress import Counts, read_progress

log = logging.getLogger(__name__)

#: Where a stage's progress reports go, under its output folder.
FOLDER = (rio.TEMP_DIR, "progress")
POLL_S = 0.5
#: Runners whose workers share the launcher's machine (and so its files).
LOCAL_RUNNERS = ("direct", "switchingdirect", "bundlebaseddirect", "prism")


class Meter(typing.NamedTuple):
    """One number a stage shows: the taps' counter ``key``, with its total when known."""

    key: str
    label: str
    total: Optional[int] = None


class Plan(typing.NamedTuple):
    """What a stage shows while it runs. ``meters`` is called when the run starts (never
    in a dry run): totals may read upstream files. ``price``: the prices of the model
    whose tokens the taps report (``None``: the stage shows no tokens or cost)."""

    stage: str
    out_dir: str
    meters: Callable[[], List[Meter]]
    price: Optional[Price] = None
    currency: str = "USD"
    log_every_s: float = 30.0


def plan(stage: str, out_dir: str, config: RunConfig, meters: Callable[[], List[Meter]],
         model: Optional[str] = None) -> Plan:
    """A stage's Plan; ``model``: ``teacher`` or ``judge``, whose prices (config ``cost``) apply."""
    price = getattr(config.cost, model) if model else None
    return Plan(stage, out_dir, meters, price, config.cost.currency, config.progress.log_every_s)


def is_local(options: PipelineOptions, out_dir: str) -> bool:
    """Whether the workers see the launcher's files: a local runner and output folder."""
    runner = options.view_as(StandardOptions).runner or "DirectRunner"
    name = str(runner).rsplit(".", 1)[-1].lower()
    name = name[: -len("runner")] if name.endswith("runner") else name
    return name in LOCAL_RUNNERS and "://" not in out_dir


def money(amount: float, currency: str) -> str:
    return f"{amount:.4f} {currency}" if amount < 100 else f"{amount:,.2f} {currency}"


def cost_text(counts: Counts, price: Price, currency: str) -> str:
    """The cost of the tokens in ``counts`` so far, or why it is unknown."""
    if not price.is_set:
        return "cost unknown (no prices set)"
    amount = (counts.get("prompt_tokens", 0) * price.prompt_per_million
              + counts.get("completion_tokens", 0) * price.completion_per_million) / 1e6
    return f"cost {money(amount, currency)}"


def clock_text(seconds: Optional[float]) -> str:
    if seconds is None:
        return "?"
    seconds = int(round(max(seconds, 0.0)))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class Rates:
    """Rates and ETA from successive totals. A counter's rate runs from the last time it
    was seen at zero (the stage's start at first), so a phase that starts late (filtering
    after verifying, the first sample once the model is loaded) is not measured from the
    start; it ends at its last change once the phase is over (its meter complete, or, for
    the other counters, every meter with a total complete), so a finished phase's rate
    does not decay while the stage goes on."""

    def __init__(self, started: float, meters: Iterable[Meter] = (), keys: Iterable[str] = ()):
        self.started = started
        self.meters = list(meters)
        watched = [m.key for m in self.meters] + list(keys)
        self._since: Dict[str, float] = {key: started for key in watched}
        self._changed: Dict[str, float] = {}
        self.counts: Counts = {}

    def observe(self, counts: Counts, now: float) -> None:
        for key in set(counts) | set(self._since):
            if not counts.get(key):
                self._since[key] = now
            if counts.get(key, 0) != self.counts.get(key, 0):
                self._changed[key] = now
        self.counts = dict(counts)

    def complete(self, meter: Meter) -> bool:
        return meter.total is not None and self.counts.get(meter.key, 0) >= meter.total

    def over(self, key: str) -> bool:
        """Whether the phase of counter ``key`` is over (see the class doc)."""
        mine = [m for m in self.meters if m.key == key and m.total is not None]
        timed = mine or [m for m in self.meters if m.total is not None]
        return bool(timed) and all(self.complete(m) for m in timed)

    def rate(self, key: str, now: float, final: bool = False) -> Optional[float]:
        done = self.counts.get(key, 0)
        since = self._since.get(key, self.started)
        end = self._changed.get(key, now) if final or self.over(key) else now
        return done / (end - since) if done and end > since else None

    def meter_eta(self, meter: Meter, now: float) -> Optional[float]:
        """Seconds left to ``meter``'s total (None: no total, or no rate yet)."""
        if meter.total is None:
            return None
        if self.complete(meter):
            return 0.0
        rate = self.rate(meter.key, now)
        return (meter.total - self.counts.get(meter.key, 0)) / rate if rate else None

    def eta(self, now: float) -> Optional[float]:
        """Seconds left in the current phase: of the first meter with a total that is not
        complete (0 when all are; None while it has no rate yet)."""
        for meter in self.meters:
            if meter.total is not None and not self.complete(meter):
                return self.meter_eta(meter, now)
        return 0.0


def meter_text(meter: Meter, done: int, rate: Optional[float]) -> str:
    per_s = f"{rate:.2f}/s" if rate else "-/s"
    if meter.total is None:
        return f"{meter.label} {done} ({per_s})"
    share = f"{done / meter.total:.0%}" if meter.total else "100%"
    return f"{meter.label} {done}/{meter.total} ({share}, {per_s})"


def format_line(plan: Plan, rates: Rates, now: float, state: str = "") -> str:
    """The progress line of a stage (see the module doc); ``state``: ``done`` or
    ``stopped`` for the last line."""
    final = bool(state)
    parts = [meter_text(m, rates.counts.get(m.key, 0), rates.rate(m.key, now, final)) for m in rates.meters]
    extra = _model_text(plan, rates, now, final)
    eta = "done" if state == "done" else f"ETA {clock_text(rates.eta(now))}"
    head = f"{plan.stage}: " + (f"{state}: " if state else "")
    return (head + ", ".join(parts) + (f"; {extra}" if extra else "")
            + f"; {clock_text(now - rates.started)} elapsed, {eta}")


def _model_text(plan: Plan, rates: Rates, now: float, final: bool = False) -> str:
    """Tokens/s and cost so far, for a stage whose taps report tokens."""
    if plan.price is None:
        return ""
    tok_s = rates.rate("completion_tokens", now, final)
    failed = rates.counts.get("prompts_failed", 0)
    return ", ".join(([f"{failed} failed"] if failed else []) + [
        f"{tok_s:.1f} tok/s" if tok_s else "- tok/s", cost_text(rates.counts, plan.price, plan.currency)])


class _Lines:
    """Progress as log lines: at the start, at most every ``log_every_s``, at the end."""

    def __init__(self, plan: Plan, rates: Rates):
        self.plan, self.rates = plan, rates
        self._last: Optional[float] = None

    def update(self, now: float) -> None:
        if self._last is None or now - self._last >= self.plan.log_every_s:
            log.info(format_line(self.plan, self.rates, now))
            self._last = now

    def close(self, now: float, ok: bool) -> None:
        log.info(format_line(self.plan, self.rates, now, "done" if ok else "stopped"))


#: tqdm formats; the rate and ETA are :class:`Rates`' (in the postfix): tqdm's own keep the
#: last rate while nothing moves (a model step between two bursts), ours decay.
BAR = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]"
COUNTER = "{desc}: {n_fmt} [{elapsed}{postfix}]"


class _Bars:
    """Progress as tqdm bars, one per meter (tokens/s and cost on the first)."""

    def __init__(self, plan: Plan, rates: Rates, stream: TextIO):
        from tqdm import tqdm

        self.plan, self.rates = plan, rates
        meters = rates.meters
        width = max(len(m.label) for m in meters)
        self.bars = [tqdm(total=m.total, desc=f"{plan.stage} {m.label:<{width}}", position=i, leave=True,
                          file=stream, dynamic_ncols=True, mininterval=0.2, smoothing=0.1, unit="",
                          bar_format=BAR if m.total else COUNTER)
                     for i, m in enumerate(meters)]

    def update(self, now: float, final: bool = False) -> None:
        for i, (bar, meter) in enumerate(zip(self.bars, self.rates.meters)):
            done = self.rates.counts.get(meter.key, 0)
            if meter.total is not None:
                done = min(done, meter.total)
            if done > bar.n:
                bar.update(done - bar.n)
            rate = self.rates.rate(meter.key, now, final)
            parts = [f"{rate:.2f}/s" if rate else "-/s"]
            if meter.total is not None:
                parts.append(f"ETA {clock_text(self.rates.meter_eta(meter, now))}")
            extra = _model_text(self.plan, self.rates, now, final) if i == 0 else ""
            bar.set_postfix_str(", ".join(parts + ([extra] if extra else [])), refresh=False)
            bar.refresh()

    def close(self, now: float, ok: bool) -> None:
        self.update(now, final=True)
        for bar in self.bars:
            bar.close()


class LiveProgress:
    """The progress of one stage run: ``start()`` before the pipeline runs, ``stop()``
    after it ended (or failed); ``folder`` is where its taps report."""

    def __init__(self, plan: Plan, stream: Optional[TextIO] = None, tty: Optional[bool] = None,
                 clock: Callable[[], float] = time.monotonic):
        self.plan = plan
        self.folder = os.path.join(os.path.abspath(plan.out_dir), *FOLDER)
        self._stream = stream
        self._tty = tty
        self._clock = clock
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._display: Optional[_Lines | _Bars] = None
        self.rates = Rates(clock())

    def start(self) -> "LiveProgress":
        meters = self.plan.meters()
        shutil.rmtree(self.folder, ignore_errors=True)  # reports of a killed earlier run
        os.makedirs(self.folder, exist_ok=True)
        stream = self._stream or sys.stderr
        tty = stream.isatty() if self._tty is None else self._tty
        self.rates = Rates(self._clock(), meters, ["completion_tokens"])
        self._display = _Bars(self.plan, self.rates, stream) if tty and meters else _Lines(self.plan, self.rates)
        self._poll()
        self._thread = threading.Thread(target=self._run, name=f"progress-{self.plan.stage}", daemon=True)
        self._thread.start()
        return self

    def _poll(self) -> float:
        now = self._clock()
        self.rates.observe(read_progress(self.folder), now)
        return now

    def _run(self) -> None:
        while not self._stop.wait(POLL_S):
            try:
                now = self._poll()
                assert self._display is not None  # made in start
                self._display.update(now)
            except Exception:  # noqa: BLE001 - a display problem never stops the run
                log.debug("progress display failed", exc_info=True)

    def stop(self, ok: bool = True) -> Counts:
        """Stop the thread, show the final numbers, delete the reports; returns the totals."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        try:
            now = self._poll()
            if self._display is not None:
                self._display.close(now, ok)
        except Exception:  # noqa: BLE001 - a display problem never fails the run
            log.debug("progress display failed", exc_info=True)
        finally:
            remove_reports(self.folder)
        return self.rates.counts


def remove_reports(folder: str) -> None:
    """Delete a progress folder, then its parent ``.tmp/`` when nothing else is in it."""
    shutil.rmtree(folder, ignore_errors=True)
    try:
        os.rmdir(os.path.dirname(folder))
    except OSError:
        pass  # not empty (or already gone): left alone


def start(plan: Optional[Plan], options: PipelineOptions) -> Optional[LiveProgress]:
    """The progress of a stage about to run, started; None when it shows none (no plan,
    not a local run, or INFO lines are off: ``--quiet``)."""
    if plan is None or not is_local(options, plan.out_dir) or not log.isEnabledFor(logging.INFO):
        return None
    live = LiveProgress(plan)
    try:
        return live.start()
    except Exception as exc:  # noqa: BLE001 - no progress is no reason to stop a run
        log.warning("%s: no live progress (%s: %s)", plan.stage, type(exc).__name__, exc)
        remove_reports(live.folder)
        return None
