"""Road Studio benchmarks: speed and memory measurements printed as tables, never asserted.

Every `benchmarks/*_bench.py` (and `bench_*.py`) is a standalone script printing markdown;
`python -m benchmarks` (or `roadstudio-cli bench`) runs them all. See benchmarks/__main__.py.
"""
