"""lamina vs torch benchmarks: the same workload code timed on both libraries.

Run ``python benchmarks/run.py`` from the repository root; see ``benchmarks/README.md``.
"""
