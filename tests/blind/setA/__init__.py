"""Blind set A (2026-12-07): 75 buggy and 19 correct implementations; see manifest.toml."""
