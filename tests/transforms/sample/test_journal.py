"""The resume journal: chunks named by their rollout ids, listing finished chunks,
and joining persisted rollouts to their problems."""
from __future__ import annotations

from schemas.records import Rollout, from_dict
from tests import factories
from transforms.core.io import read_parquet_rows
from transforms.models.backends.fake import FakeBackend
from transforms.sample.config import SampleConfig
from transforms.sample.handler import generate_for_problems, make_rollouts
from transforms.sample.journal import list_journal, persist_chunk, tasks_from_join

SEED = 1234
HASH = "cfghash"


RESUME = SampleConfig(backend="fake", model="fake-model", n=3, max_tokens=64, batch_size=2)


def _full_rollouts(problem, config=RESUME):
    [generated] = generate_for_problems(FakeBackend(config), [problem], config, SEED)
    return make_rollouts(generated, config, SEED, HASH)


def test_tasks_from_join_deduplicates_persisted_rollouts():
    problem = factories.problem(prompt="What is 1 + 8?")
    full = _full_rollouts(problem)
    [task] = tasks_from_join((problem.problem_id, {"problems": [problem], "done": [full[1], full[0], full[1]]}))
    assert task.problem == problem
    assert [r.rollout_id for r in task.done] == sorted({full[0].rollout_id, full[1].rollout_id})
    assert list(tasks_from_join(("orphan", {"problems": [], "done": full}))) == []


def test_journal_chunks_are_named_by_their_ids(tmp_path):
    problem = factories.problem(prompt="What is 3 + 8?")
    full = _full_rollouts(problem)
    journal = str(tmp_path / "journal")
    path = persist_chunk(journal, [full[2], full[0]])
    assert path == persist_chunk(journal, [full[0], full[2]])  # a retried batch rewrites its own file
    assert persist_chunk(journal, []) is None
    (tmp_path / "journal" / "chunk-abc.parquet.tmp-123").write_bytes(b"half written")
    assert list_journal(journal) == [path]
    assert [from_dict(Rollout, row) for row in read_parquet_rows(path)] == sorted(
        [full[0], full[2]], key=lambda r: r.rollout_id)
    assert list_journal(str(tmp_path / "none")) == []
