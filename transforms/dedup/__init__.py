"""The dedup step of curate: MinHash signatures, LSH, components and the survivor policy."""
