"""Firmware: hls4ml conversion, C simulation, golden vectors, open-source RTL."""
