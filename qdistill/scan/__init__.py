"""Design-space scan: QDistillNets over widths, sparsity and sizes, each trained, converted,
checked bit for bit, costed with da4ml and evaluated on physics, run as Dask tasks."""
