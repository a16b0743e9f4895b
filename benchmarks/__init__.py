"""RegioTwin's benchmarks: speed, cost and scale, each figure beside a raw reference.

Run ``python -m benchmarks`` (``--quick`` for CI); see :mod:`benchmarks.cli` and
``benchmarks/README.md``.
"""
