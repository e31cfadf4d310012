"""Road Studio benchmarks: speed and memory measurements printed as tables, never asserted.

Every `benchmarks/*_bench.py` (and `bench_*.py`) is a module that prints markdown, run from the
repository root as `python -m benchmarks.inference_bench` (and so on; no sys.path set-up);
`python -m benchmarks` (or `roadstudio-cli bench`) runs them all. See benchmarks/__main__.py.
"""
