"""Live progress reports: per-instance files under the progress folder, written at most
every interval and at the end of a bundle, summed by the launcher, across processes."""
import json
import os
import threading
import time

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from transforms.core.progress import ProgressWriter, ReportProgress, read_progress, tap


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_a_writer_reports_its_totals_at_most_every_interval(tmp_path):
    clock = _Clock()
    folder = str(tmp_path)
    writer = ProgressWriter(folder, "sample", interval_s=1.0, clock=clock)
    writer.add({"prompts": 1, "rollouts": 4})
    writer.flush_if_due()
    assert read_progress(folder) == {}  # not due yet: nothing written
    clock.now = 1.5
    writer.flush_if_due()
    assert read_progress(folder) == {"prompts": 1, "rollouts": 4}
    writer.add({"prompts": 2, "rollouts": 8})
    clock.now = 2.0
    writer.flush_if_due()
    assert read_progress(folder) == {"prompts": 1, "rollouts": 4}
    writer.flush()  # the end of a bundle: whatever is new
    assert read_progress(folder) == {"prompts": 3, "rollouts": 12}
    assert [n for n in os.listdir(folder)] == [f"sample.{os.getpid()}.0.json"]


def test_instances_never_share_a_file_and_the_reader_sums_them(tmp_path):
    folder = str(tmp_path)
    first, second = ProgressWriter(folder, "verified"), ProgressWriter(folder, "verified")
    first.add({"verified": 2})
    second.add({"verified": 5})
    first.flush()
    second.flush()
    first.add({"verified": 1})
    first.flush()
    assert read_progress(folder) == {"verified": 8}
    assert sorted(os.listdir(folder)) == [f"verified.{os.getpid()}.0.json", f"verified.{os.getpid()}.1.json"]


def test_the_reader_skips_what_is_not_a_finished_report(tmp_path):
    (tmp_path / "a.1.0.json").write_text(json.dumps({"counts": {"examples": 3}}))
    (tmp_path / "a.1.1.json").write_text("")  # just claimed
    (tmp_path / "a.1.2.json.tmp").write_text(json.dumps({"counts": {"examples": 100}}))  # being written
    (tmp_path / "b.1.0.json").write_text("[1, 2]")
    assert read_progress(str(tmp_path)) == {"examples": 3}
    assert read_progress(str(tmp_path / "absent")) == {}


def test_a_write_that_fails_is_skipped_and_no_folder_is_made(tmp_path):
    folder = tmp_path / "progress"  # gone: the stage ended
    writer = ProgressWriter(str(folder), "x")
    writer.add({"x": 1})
    writer.flush()  # no error: progress is best effort
    assert writer.counts == {"x": 1} and not folder.exists()


def test_the_writers_thread_reports_a_burst_without_more_elements(tmp_path):
    """A burst, then nothing (a long model step): its thread writes it; it ends with the folder."""
    folder = tmp_path / "progress"
    folder.mkdir()
    writer = ProgressWriter(str(folder), "x", interval_s=0.01).start()
    writer.add({"x": 3})
    deadline = time.monotonic() + 60
    while read_progress(str(folder)) != {"x": 3} and time.monotonic() < deadline:
        time.sleep(0.01)
    assert read_progress(str(folder)) == {"x": 3}
    threads = [t for t in threading.enumerate() if t.name == "progress-x"]
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    for thread in threads:
        thread.join(60)
    assert not any(t.is_alive() for t in threads) and not folder.exists()


def _measure(n):
    return {"items": 1, "tokens": n}


def test_reports_cross_processes_from_multi_processing_workers(tmp_path):
    """The taps run in the runner's worker processes: their reports reach the folder."""
    folder = str(tmp_path / "progress")
    os.mkdir(folder)  # the launcher makes it
    options = PipelineOptions(["--direct_running_mode=multi_processing", "--direct_num_workers=2"])
    with beam.Pipeline(options=options) as pipeline:
        numbers = pipeline | beam.Create(list(range(40))) | beam.Reshuffle()
        _ = numbers | ReportProgress(folder, "numbers", _measure)
        tap(numbers, "Counted", folder, "counted")
        tap(numbers, "Off", None, "never")  # progress off: no step at all
    assert read_progress(folder) == {"items": 40, "tokens": sum(range(40)), "counted": 40}
    pids = {int(name.split(".")[1]) for name in os.listdir(folder)}
    assert pids and os.getpid() not in pids


def test_no_folder_builds_no_step():
    pipeline = beam.Pipeline()
    numbers = pipeline | beam.Create([1, 2])
    before = len(pipeline.transforms_stack[0].parts)
    tap(numbers, "Off", None, "never")
    assert len(pipeline.transforms_stack[0].parts) == before
