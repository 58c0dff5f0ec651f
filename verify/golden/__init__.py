"""The golden engine: number backends, certified runs, the trace format, the committed goldens."""
