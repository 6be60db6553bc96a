# vivado_hls_build.tcl — run an hls4ml project through Vivado HLS (2018.x–2020.1).
#
#   vivado_hls -f vivado_hls_build.tcl -tclargs project_dir=DIR project_name=myproject \
#       part=xcvu13p-flga2577-2-e clock_period=4.1667 csim=1 synth=1 cosim=0 export=0
#
# `qdistill synth --flow vivado` runs exactly this; the steps are in hls_build.tcl.

set qdistill_hls_tool vivado_hls
source [file join [file dirname [file normalize [info script]]] hls_build.tcl]
