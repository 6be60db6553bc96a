# vivado_synth.tcl — out-of-context logic synthesis (and optionally place and route) of the RTL
# that Vivado HLS / Vitis HLS wrote for an hls4ml project, with utilization and timing reports.
#
#   vivado -mode batch -source vivado_synth.tcl -tclargs project_dir=DIR project_name=myproject \
#       part=xcvu13p-flga2577-2-e clock_period=4.1667 place_route=0
#
# Reads  DIR/NAME_prj/solution1/syn/verilog/ (run C synthesis first).
# Writes DIR/vivado_reports/synth_utilization.rpt and synth_timing.rpt, and with place_route=1
#        also route_utilization.rpt, route_timing.rpt and route.dcp.
# Out of context: no I/O buffers are inserted, as for a block inside a larger trigger design.
# The clock constraint is ap_clk at clock_period ns, so the timing summary's WNS is meaningful.

set qdistill_dir [file dirname [file normalize [info script]]]
source [file join $qdistill_dir qdistill_args.tcl]

array set opt {
    project_dir  ""
    project_name ""
    part         ""
    clock_period ""
    place_route  0
}
qdistill_parse_args $argv opt
qdistill_check_common opt
qdistill_check_flags opt {place_route}

set name $opt(project_name)
cd $opt(project_dir)
set rtl_dir ${name}_prj/solution1/syn/verilog
if {![file isdirectory $rtl_dir]} {
    qdistill_fail "no RTL in $opt(project_dir)/$rtl_dir; run C synthesis first"
}
set out_dir vivado_reports
file mkdir $out_dir

puts "qdistill: vivado, project $name, part $opt(part), clock $opt(clock_period) ns"

# The HLS RTL (and the .dat ROM images its memories read), as hls4ml's vivado_synth.tcl adds it.
add_files $rtl_dir

set xdc [file join $out_dir clock.xdc]
set f [open $xdc w]
puts $f "create_clock -period $opt(clock_period) -name ap_clk \[get_ports ap_clk\]"
close $f
read_xdc -mode out_of_context $xdc

qdistill_step "SYNTHESIS"
synth_design -top $name -part $opt(part) -mode out_of_context
report_utilization -file [file join $out_dir synth_utilization.rpt]
report_timing_summary -file [file join $out_dir synth_timing.rpt]

if {$opt(place_route)} {
    qdistill_step "PLACE AND ROUTE"
    opt_design
    place_design
    route_design
    report_utilization -file [file join $out_dir route_utilization.rpt]
    report_timing_summary -file [file join $out_dir route_timing.rpt]
    write_checkpoint -force [file join $out_dir route.dcp]
}

exit
