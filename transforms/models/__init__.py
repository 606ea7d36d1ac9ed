"""The model layer every model call goes through.

``config`` (one ``ModelConfig``; ``make_backend``), ``backends`` (transformers, vllm,
openai, fake behind one interface), ``handler`` (the ``ChatModelHandler`` RunInference
calls) and ``step`` (``ModelStep``, the composite the launcher puts resource hints on).
"""
