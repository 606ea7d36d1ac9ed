"""The decontamination step of curate: n-gram overlap against benchmark sets."""
