"""The verify step of curate: one route per domain, answer matching, the math child process,
the judge (``judge``: its config, requests and parsing, and the plain driver;
``judge_step``: its model step in the stage) and the code sandbox."""
