# hls_build.tcl — C simulation, C synthesis, optional C/RTL co-simulation and IP export of an
# hls4ml project (as written by `qdistill convert`), for Vivado HLS and Vitis HLS alike.
#
# Do not run this file directly: run vivado_hls_build.tcl or vitis_hls_build.tcl, which set
# qdistill_hls_tool and source this file. The steps are those of hls4ml's own build_prj.tcl;
# part and clock come from the arguments, never from an edited copy of this file.
#
# Arguments (key=value after -tclargs):
#   project_dir=DIR        the hls4ml project (holds firmware/<name>.cpp, <name>_test.cpp, tb_data/)
#   project_name=NAME      the top function, e.g. myproject
#   part=PART              e.g. xcvu13p-flga2577-2-e
#   clock_period=NS        target clock period in ns, e.g. 4.1667 for 240 MHz
#   csim=1 synth=1 cosim=0 export=0    steps to run
# Writes NAME_prj/solution1/ (reports in syn/report/ and sim/report/), replacing an earlier run.

set qdistill_dir [file dirname [file normalize [info script]]]
source [file join $qdistill_dir qdistill_args.tcl]

array set opt {
    project_dir  ""
    project_name ""
    part         ""
    clock_period ""
    csim         1
    synth        1
    cosim        0
    export       0
}
qdistill_parse_args $argv opt
qdistill_check_common opt
qdistill_check_flags opt {csim synth cosim export}

set name $opt(project_name)
cd $opt(project_dir)
foreach needed [list firmware/${name}.cpp ${name}_test.cpp firmware/weights tb_data] {
    if {![file exists $needed]} {
        qdistill_fail "$opt(project_dir) has no $needed: not an hls4ml project made by qdistill convert"
    }
}

# hls4ml's project.tcl holds the settings that are not ours to choose: clock uncertainty,
# IP version and array-partition limit. Part and clock period always come from the arguments.
if {[file exists project.tcl]} {
    source project.tcl
}

puts "qdistill: $qdistill_hls_tool, project $name, part $opt(part), clock $opt(clock_period) ns"

open_project -reset ${name}_prj
set_top $name
add_files firmware/${name}.cpp -cflags "-std=c++0x"
add_files -tb ${name}_test.cpp -cflags "-std=c++0x"
add_files -tb firmware/weights
add_files -tb tb_data
if {$qdistill_hls_tool eq "vitis_hls"} {
    open_solution -reset solution1 -flow_target vivado
} else {
    open_solution -reset solution1
}
if {[info exists maximum_size]} {
    catch {config_array_partition -maximum_size $maximum_size}
}
config_compile -name_max_length 80
set_part $opt(part)
config_schedule -enable_dsp_full_reg=false
create_clock -period $opt(clock_period) -name default
if {[info exists clock_uncertainty]} {
    set_clock_uncertainty $clock_uncertainty default
}

if {$opt(csim)} {
    qdistill_step "C SIMULATION"
    csim_design
}

if {$opt(synth)} {
    qdistill_step "C SYNTHESIS"
    csynth_design
}

if {$opt(cosim)} {
    qdistill_step "C/RTL CO-SIMULATION"
    # As hls4ml does: the testbench reads RTL_SIM to write tb_data/rtl_cosim_results.log.
    add_files -tb ${name}_test.cpp -cflags "-std=c++0x -DRTL_SIM"
    cosim_design -rtl verilog
    # The RTL must reproduce the C simulation exactly on the project's test vectors.
    set csim_log tb_data/csim_results.log
    set rtl_log tb_data/rtl_cosim_results.log
    if {[file exists $csim_log] && [file exists $rtl_log]} {
        set f1 [open $csim_log r]
        set f2 [open $rtl_log r]
        set same [string equal [read $f1] [read $f2]]
        close $f1
        close $f2
        if {!$same} {
            qdistill_fail "C/RTL co-simulation outputs differ from C simulation ($csim_log vs $rtl_log)"
        }
        puts "qdistill: C/RTL co-simulation outputs equal the C simulation's"
    }
}

if {$opt(export)} {
    qdistill_step "EXPORT IP"
    if {[info exists version]} {
        export_design -format ip_catalog -version $version
    } else {
        export_design -format ip_catalog
    }
}

exit
