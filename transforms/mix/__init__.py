"""The mix stage: quota selection, journeys, knowledge and non-reasoning examples.

``config`` (MixConfig), ``select`` (buckets, quotas, selection keys, the decisions as
plain rules), ``transform`` (MixExamples), ``examples`` (the SFT example format),
``knowledge`` (knowledge examples), ``journey_config``, ``attempts`` (which of the wrong
attempts curate hands over journeys take), ``journey_build`` (planning and building one
journey, plain functions), ``journey_teacher`` (the teacher's requests and reading its
answers) and ``journey`` (the BuildJourneys step: model steps for the teacher, rules
through RuleStep; the teacher and the checker come from the launcher)."""
