"""The model layer: one model config, the backends, and the RunInference handler every model call goes through."""
