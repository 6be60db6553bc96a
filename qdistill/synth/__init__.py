"""Running synthesis tools, parsing their reports, and the resource/latency table.

``runner.run_synthesis`` drives Vitis HLS / Vivado HLS / Vivado (Tcl in ``synth/tcl/``) or
the Yosys flow; ``report.read_reports`` reads their reports into ``schema.SynthReport`` with one
parser per format (``hls_xml``, ``hls_rpt``, ``vivado_util``, ``vivado_timing``, ``cosim``);
``table.report_table`` prints them side by side. See docs/reports.md.
"""
