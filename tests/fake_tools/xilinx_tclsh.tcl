# xilinx_tclsh.tcl — run qdistill's real Tcl scripts under plain tclsh, with the Xilinx tool
# commands replaced by procs that record their arguments (one line a call) in $::env(QDISTILL_CALLS).
#
#   tclsh xilinx_tclsh.tcl -f SCRIPT -tclargs key=value ...                  (as vitis_hls/vivado_hls)
#   tclsh xilinx_tclsh.tcl -mode batch ... -source SCRIPT -tclargs key=value ...     (as vivado)
#
# csynth_design copies $::env(QDISTILL_CSYNTH_FIXTURE) (if set) to where Vivado/Vitis HLS write
# the C-synthesis report, so that the qdistill runner can parse the result.

set script ""
set words {}
set i 0
while {$i < [llength $argv]} {
    set word [lindex $argv $i]
    if {$word eq "-f" || $word eq "-source"} {
        incr i
        set script [lindex $argv $i]
    } elseif {$word eq "-tclargs"} {
        set words [lrange $argv [expr {$i + 1}] end]
        break
    }
    incr i
}
set argv $words

set ::qdistill_calls [open $::env(QDISTILL_CALLS) a]
set ::qdistill_top ""
set ::qdistill_project ""

proc record {name arguments} {
    puts $::qdistill_calls [string trim "$name $arguments"]
    flush $::qdistill_calls
}

foreach command {
    add_files config_array_partition config_compile config_schedule create_clock
    csim_design cosim_design export_design set_clock_uncertainty set_part
    read_xdc synth_design report_utilization report_timing_summary opt_design
    place_design route_design write_checkpoint
} {
    proc $command {args} "record $command \$args"
}
proc open_project {args} {
    record open_project $args
    set ::qdistill_project [lindex $args end]
}
proc open_solution {args} {
    record open_solution $args
}
proc set_top {name} {
    record set_top $name
    set ::qdistill_top $name
}
proc csynth_design {args} {
    record csynth_design $args
    if {[info exists ::env(QDISTILL_CSYNTH_FIXTURE)]} {
        set folder [file join $::qdistill_project solution1 syn report]
        file mkdir $folder
        set report [file join $folder ${::qdistill_top}_csynth.xml]
        file copy -force $::env(QDISTILL_CSYNTH_FIXTURE) $report
        file mtime $report [clock seconds]  ;# a fresh report, as the tool writes one
    }
}

source $script
