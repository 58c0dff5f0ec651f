"""float32 runners: each turns an implementation into a ``Trace`` (framework imports are lazy)."""
