"""The verify step of curate: one route per domain, answer matching, the math child process,
the judge (``judge``: its config, requests and parsing, and the plain driver;
``judge_step``: its model step in the stage) and the code sandbox; what curate hands on to
mix (``attempts``: the wrong attempts, every rejected rollout with a wrong verdict) and the
answer checker mix's launcher injects into journeys (``checker``)."""
