# qdistill_args.tcl — argument handling shared by the qdistill Tcl scripts.
#
# Arguments are "key=value" words after -tclargs, e.g.
#     part=xcvu13p-flga2577-2-e clock_period=4.1667 project_dir=/path/to/project
# Words without "=" are ignored (vivado_hls also puts "-f script.tcl" into argv). Every value is
# checked here before it reaches a tool command; a bad value stops the script with an ERROR line.

# Fill the array named $opt_name (pre-set with the defaults) from the key=value words of $words.
proc qdistill_parse_args {words opt_name} {
    upvar 1 $opt_name opt
    foreach word $words {
        if {![regexp {^([a-z_]+)=(.*)$} $word -> key value]} {
            continue
        }
        if {![info exists opt($key)]} {
            qdistill_fail "unknown argument '$key' (known: [lsort [array names opt]])"
        }
        set opt($key) $value
    }
}

proc qdistill_fail {message} {
    puts "ERROR: \[qdistill\] $message"
    exit 1
}

# Check the arguments every qdistill script takes; stop with an ERROR line if one is wrong.
proc qdistill_check_common {opt_name} {
    upvar 1 $opt_name opt
    foreach key {project_dir project_name part clock_period} {
        if {$opt($key) eq ""} {
            qdistill_fail "missing argument $key=..."
        }
    }
    if {![file isdirectory $opt(project_dir)]} {
        qdistill_fail "project_dir '$opt(project_dir)' is not a folder"
    }
    # A C identifier: the HLS top function and the name of <project_name>_prj.
    if {![regexp {^[A-Za-z_][A-Za-z0-9_]*$} $opt(project_name)]} {
        qdistill_fail "project_name '$opt(project_name)' is not a C identifier"
    }
    # The same rule as qdistill/devices.py: letters, digits and dashes, e.g. xcvu13p-flga2577-2-e.
    if {![regexp {^xc[a-z0-9]+(-[a-zA-Z0-9]+){1,3}$} $opt(part)]} {
        qdistill_fail "part '$opt(part)' is not a Xilinx part name such as xcvu13p-flga2577-2-e"
    }
    if {![string is double -strict $opt(clock_period)] || $opt(clock_period) <= 0} {
        qdistill_fail "clock_period '$opt(clock_period)' is not a positive number of ns"
    }
}

# Check that each named option is 0 or 1.
proc qdistill_check_flags {opt_name flags} {
    upvar 1 $opt_name opt
    foreach key $flags {
        if {$opt($key) ni {0 1}} {
            qdistill_fail "$key must be 0 or 1, not '$opt($key)'"
        }
    }
}

proc qdistill_step {name} {
    puts "***** $name *****"
}
