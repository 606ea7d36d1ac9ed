"""The verify step of curate: one route per domain, answer matching, the math child process,
the judge and the code sandbox."""
