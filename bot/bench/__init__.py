"""`footnote bench`: speed measurements (docs/performance.md explains every figure)."""
