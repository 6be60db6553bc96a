"""qdistill: distil an event-level pileup GNN into a quantized per-particle network and firmware."""

__version__ = "0.1.0"
