"""fub-mcp benchmarks: `python -m bench` (add `--quick` for a short run). Writes bench/results.md."""
