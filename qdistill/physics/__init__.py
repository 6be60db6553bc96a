"""Physics evaluation: missing pT, jets, resolutions, weight distributions, plots."""
