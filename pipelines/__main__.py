"""``python -m pipelines`` is the ``reasoning-corpus`` command."""
from pipelines.cli import entry_point

if __name__ == "__main__":  # spawned worker processes re-import this module
    entry_point()
