"""The filter step of curate: one module per rule family, a registry, and the transform."""
