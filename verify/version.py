"""The package version, one place for the package face, the CLI and the reports."""

__version__ = "0.1.0"
