"""Running synthesis tools, parsing their reports, and the resource/latency table."""
