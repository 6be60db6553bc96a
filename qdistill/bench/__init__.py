"""CPU latency and throughput measurements."""
