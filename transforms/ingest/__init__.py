"""Stage 0 of sample: readers, presets and generators turn inputs into Problem records."""
