"""Stage 0 of sample: readers, presets and generators turn inputs into Problem records.

``config`` (sources and limits), ``planning`` (launcher side: checked sources → work
items), ``presets`` (one record → a Problem), ``generators`` (procedural problems, one
module per family), ``transform`` (``ReadProblems``: work items → Problems and dead
letters, through ``RuleStep``). The file readers are shared: ``transforms.core.readers``."""
