"""The event-level GNN teacher and its soft labels."""
