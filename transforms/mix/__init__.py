"""The mix stage: quota selection, journeys, knowledge and non-reasoning examples.

``config`` (MixConfig), ``select`` (buckets, quotas, selection keys, the decisions as
plain rules), ``transform`` (MixExamples), ``examples`` (the SFT example format),
``knowledge`` (knowledge examples), ``journey_config``, ``attempts`` (the wrong attempts
handed over by curate), ``journey_build`` (building one journey) and ``journey`` (the
teacher, the checker and the BuildJourneys step)."""
