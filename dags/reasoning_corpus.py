"""Airflow DAG ``reasoning_corpus``: plan → sample → curate → mix → verify, on a schedule.

* **plan** resolves the settings (DAG param, else Airflow Variable
  ``reasoning_corpus_<name>``, else the default for this checkout) into the run's
  folder ``{output_base}/runs/{run_key}`` and per-stage job names, all functions
  of the DAG run id (see ``corpus_plan.py``): a retry reuses them, two runs never
  share a folder.
* **sample**, **curate**, **mix** are ``BeamRunPythonPipelineOperator`` tasks that
  run ``python -m pipelines.dag_entry --stage=STAGE ...`` with the project's own
  interpreter (setting ``python``, default ``<repo>/.venv/bin/python``), so
  Airflow and Beam keep separate virtualenvs. The runner and its flags come from
  a profile of ``configs/runners.yaml`` (setting ``runner_profile``) plus
  ``beam_options``. On Dataflow the job name is fixed (``append_job_name`` off),
  so a retry can't start a second job beside a running one, and killing a task
  cancels its job.
* **verify** re-checks the run's manifests (checksums, row counts, accounting,
  dead-letter share, the card's files and ``dataset_info.json``) with
  ``reasoning-corpus verify`` and fails the DAG run if anything is off.

The run folder ends as a corpus folder: the dataset repository's files at its top
(``README.md``, ``data/``, ``plots/``, ``dataset_info.json``, ``manifest.json``) and the
stage folders ``sample/``, ``curate/`` and ``mix/`` (the mix stage's own rejections,
dead letters and counts) beside them. Publishing it is a separate, manual step
(``reasoning-corpus publish RUN_DIR --repo ORG/NAME``), never a task of this DAG.

Settings: ``repo``, ``python``, ``config``, ``output_base``, ``runner_profile``,
``beam_options`` (a JSON mapping of Beam flags), ``input``, ``limit``, ``registry``
(the corpus registry, default ``{output_base}/registry``, ``none`` for none): every
stage gets it (``--registry``), so a scheduled run reuses the rollouts earlier runs
generated, drops what they published, and registers its own corpus (see
``pipelines/registry.py``). The schedule
comes from the environment variable ``REASONING_CORPUS_SCHEDULE`` (default ``@weekly``),
the retries of a task from ``REASONING_CORPUS_RETRIES`` (default 2) and
``REASONING_CORPUS_RETRY_DELAY_S`` (default 300). A retried stage starts over
from its launcher (old outputs withdrawn and cleared first), under the same
folder and job name.
"""
from __future__ import annotations

import os
import sys
from datetime import timedelta

import pendulum
from airflow.providers.apache.beam.operators.beam import BeamRunPythonPipelineOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Param, Variable, task

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # the scheduler puts dags/ on the path; a bare DagBag does not
    sys.path.append(HERE)
# after the path is set, hence E402
from corpus_plan import SETTINGS, STAGES, VARIABLE_PREFIX, build_plan, default_settings, merge_settings  # noqa: E402

DAG_ID = "reasoning_corpus"
#: The checkout this file belongs to (dags/ is inside it) unless a Variable says otherwise.
REPO = os.path.dirname(HERE)


class CorpusStageOperator(BeamRunPythonPipelineOperator):
    """The Beam operator with the interpreter templated too (it comes from the plan)."""

    template_fields = (*BeamRunPythonPipelineOperator.template_fields, "py_interpreter")


def from_plan(path: str) -> str:
    """A template for one value of the plan task's result, e.g. ``['stages']['mix']``."""
    return "{{ ti.xcom_pull(task_ids='plan')" + path + " }}"


@task
def plan(**context) -> dict:
    """Resolve this run's settings and compute its folder, job names and stage options."""
    variables = {key: Variable.get(VARIABLE_PREFIX + key, default=None) for key in SETTINGS}
    defaults = default_settings(variables.get("repo") or REPO)
    settings = merge_settings(context["params"], variables, defaults)
    return build_plan(settings, context["dag"].dag_id, context["run_id"])


with DAG(
    dag_id=DAG_ID,
    description="sample → curate → mix a reasoning SFT corpus with Apache Beam",
    schedule=os.environ.get("REASONING_CORPUS_SCHEDULE", "@weekly"),
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    render_template_as_native_obj=True,
    default_args={
        "retries": int(os.environ.get("REASONING_CORPUS_RETRIES", "2")),
        "retry_delay": timedelta(seconds=float(os.environ.get("REASONING_CORPUS_RETRY_DELAY_S", "300"))),
    },
    params={
        "config": Param(None, type=["null", "string"], description="run config YAML"),
        "runner_profile": Param(None, type=["null", "string"],
                                description="profile of configs/runners.yaml ([FILE:]NAME)"),
        "beam_options": Param({}, type="object", description="Beam flags over the profile's"),
        "output_base": Param(None, type=["null", "string"], description="runs go to OUTPUT_BASE/runs/"),
        "input": Param(None, type=["null", "string"],
                       description="problems file/glob (else the config's sources)"),
        "limit": Param(None, type=["null", "integer"], description="at most this many problems from input"),
        "python": Param(None, type=["null", "string"], description="the project's python"),
        "repo": Param(None, type=["null", "string"], description="the project's checkout"),
        "registry": Param(None, type=["null", "string"],
                          description="corpus registry (default OUTPUT_BASE/registry; 'none': off)"),
    },
    tags=["reasoning-corpus", "beam"],
    doc_md=__doc__,
) as dag:
    previous = plan()
    for stage in STAGES:
        current = CorpusStageOperator(
            task_id=stage,
            py_file="pipelines.dag_entry",
            py_options=["-m"],
            py_interpreter=from_plan("['python']"),
            runner=from_plan("['runner']"),
            pipeline_options=from_plan(f"['stages']['{stage}']['options']"),
            dataflow_config=from_plan(f"['stages']['{stage}']['dataflow_config']"),
            max_active_tis_per_dag=1,
        )
        previous >> current
        previous = current
    previous >> BashOperator(task_id="verify", bash_command=from_plan("['verify_command']"))
