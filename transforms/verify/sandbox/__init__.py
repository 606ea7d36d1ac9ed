"""The code sandbox: bubblewrap + seccomp, a harness that runs tests in a child, limits per run."""
