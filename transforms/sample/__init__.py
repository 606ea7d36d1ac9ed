"""The sample stage: n rollouts per problem from the teacher.

``config`` (``SampleConfig``, deriving the teacher's ``ModelConfig``), ``prompts``
(chat turns, answer split), ``ids`` (rollout ids, sample seeds), ``journal`` (resume),
``handler`` (``SampleModelHandler``) and ``transform`` (``GenerateRollouts``).
"""
