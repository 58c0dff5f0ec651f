"""The command line: argument parsing, wiring, exit codes and output paths."""
