# Runs one libFuzzer target: cmake -DFUZZER=<program> -DSEEDS=<dir>
# -DWORK=<dir> -DRUNS=<n> -P run_fuzzer.cmake (the ctest test fuzz.<name>).
#
# Short run (the default; make test-fuzz): RUNS executions with a fixed
# seed, starting from the checked-in SEEDS; the inputs it finds go to
# WORK/short, emptied first, so a run depends on nothing but the sources.
# Long run (LMH_FUZZ_LONG=1 in the environment; make fuzz): LMH_FUZZ_RUNS
# executions (default 1000000) or LMH_FUZZ_SECONDS (default 3600),
# whichever ends first, from SEEDS and WORK/corpus (what earlier long runs
# kept), with a random seed; then the new inputs that add coverage are
# merged into WORK/corpus. The checked-in corpus is only read.
#
# A crash, a sanitizer report, a leak, an input running over 10 s or a
# process over 2 GB fails the run; libFuzzer leaves the input in WORK
# (crash-*, leak-*, timeout-*, oom-*) and this prints the end of its log
# (WORK/last.log). Prints one line: executions, time, executions per second,
# the final coverage (cov: edges, ft: features) and corpus size, peak RSS.
cmake_policy(VERSION 3.25)
foreach(var FUZZER SEEDS WORK RUNS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_fuzzer.cmake: -D${var}= missing")
  endif()
endforeach()
get_filename_component(name "${FUZZER}" NAME)
set(log "${WORK}/last.log")
file(MAKE_DIRECTORY "${WORK}")
set(limits -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "-artifact_prefix=${WORK}/")

if("$ENV{LMH_FUZZ_LONG}" STREQUAL "1")
  set(runs 1000000)
  if(DEFINED ENV{LMH_FUZZ_RUNS})
    set(runs "$ENV{LMH_FUZZ_RUNS}")
  endif()
  set(seconds 3600)
  if(DEFINED ENV{LMH_FUZZ_SECONDS})
    set(seconds "$ENV{LMH_FUZZ_SECONDS}")
  endif()
  set(out "${WORK}/new")
  file(REMOVE_RECURSE "${out}")
  file(MAKE_DIRECTORY "${out}" "${WORK}/corpus")
  set(args -runs=${runs} -max_total_time=${seconds} ${limits} "${out}" "${WORK}/corpus" "${SEEDS}")
else()
  set(out "${WORK}/short")
  file(REMOVE_RECURSE "${out}")
  file(MAKE_DIRECTORY "${out}")
  set(args -runs=${RUNS} -seed=1 ${limits} "${out}" "${SEEDS}")
endif()

string(TIMESTAMP start "%s")
execute_process(COMMAND "${FUZZER}" ${args} OUTPUT_FILE "${log}" ERROR_FILE "${log}" RESULT_VARIABLE rc)
string(TIMESTAMP end "%s")
file(READ "${log}" text)
if(NOT rc EQUAL 0)
  string(LENGTH "${text}" length)
  if(length GREATER 6000)
    math(EXPR from "${length} - 6000")
    string(SUBSTRING "${text}" ${from} -1 text)
  endif()
  message(FATAL_ERROR "${name} failed (exit ${rc}); input and log in ${WORK}:\n${text}")
endif()

string(REGEX MATCH "stat::number_of_executed_units: *([0-9]+)" _ "${text}")
set(executed "${CMAKE_MATCH_1}")
string(REGEX MATCH "stat::peak_rss_mb: *([0-9]+)" _ "${text}")
set(rss "${CMAKE_MATCH_1}")
# The last status line: "#<n> DONE cov: <edges> ft: <features> corp: <inputs>/<size> ...".
string(REGEX MATCH "DONE +cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+)" _ "${text}")
set(cov "${CMAKE_MATCH_1}")
set(ft "${CMAKE_MATCH_2}")
set(corp "${CMAKE_MATCH_3}")
math(EXPR elapsed "${end} - ${start}")
# libFuzzer's own exec/s rounds a run under a second down to 0.
if(elapsed GREATER 0)
  math(EXPR per_second "${executed} / ${elapsed}")
  set(took "${elapsed} s (${per_second}/s)")
else()
  set(took "under 1 s")
endif()
string(CONCAT summary "${name}: ${executed} executions in ${took}, cov ${cov}, "
       "ft ${ft}, ${corp} inputs in the run's corpus, peak RSS ${rss} MB")

if("$ENV{LMH_FUZZ_LONG}" STREQUAL "1")
  # Keep what adds coverage to WORK/corpus (libFuzzer's merge reads the
  # corpus first, then the candidates).
  execute_process(COMMAND "${FUZZER}" -merge=1 ${limits} "${WORK}/corpus" "${out}"
                  OUTPUT_FILE "${WORK}/merge.log" ERROR_FILE "${WORK}/merge.log" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${name}: merging the new inputs failed (exit ${rc}); see ${WORK}/merge.log")
  endif()
  file(GLOB kept "${WORK}/corpus/*")
  list(LENGTH kept kept)
  string(APPEND summary "; ${kept} inputs in ${WORK}/corpus")
endif()
message("${summary}")
