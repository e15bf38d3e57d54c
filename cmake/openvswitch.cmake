# Open vSwitch's own C library (libopenvswitch: the OVSDB IDL and the
# generated vswitch IDL, lib/vswitch-idl.{c,h}) for harness/ovs/ovsdb_c.c.
#
# Debian 12 ships no libopenvswitch-dev, so the library is built from the
# source tarball of package openvswitch-source (the same version as the
# installed openvswitch-switch, so the IDL matches the running schema).
# ExternalProject extracts, configures and builds it once per build tree:
# its stamps under <build>/openvswitch/stamp make a re-run of cmake or of the
# build a no-op, and a fresh build tree builds it without any manual step.
#
# Provides target lmh_openvswitch: the static library (plus what configure
# made it need) and the include directories, the latter for C sources only:
# OVS headers are not C++-safe and names such as lib/list.h or lib/memory.h
# must not shadow anything a C++ file includes.
#
# This file is also run as a script (cmake -P) by the build step, to merge the
# archives and check the link flags configure chose (see the end).

if(CMAKE_SCRIPT_MODE_FILE)
  cmake_policy(VERSION 3.25)
  # Script mode: LMH_OVS_BUILD_DIR, LMH_OVS_OUTPUT, LMH_OVS_AR, LMH_OVS_EXPECTED_LIBS.
  # libopenvswitch.la depends on the convenience library libopenvswitchavx512
  # (and it back on libopenvswitch), so the two archives are merged into one:
  # the linker rescans a single archive until nothing new resolves.
  set(lib_dir "${LMH_OVS_BUILD_DIR}/lib/.libs")
  set(mri "CREATE ${LMH_OVS_OUTPUT}.tmp\nADDLIB ${lib_dir}/libopenvswitch.a\n")
  if(EXISTS "${lib_dir}/libopenvswitchavx512.a")
    string(APPEND mri "ADDLIB ${lib_dir}/libopenvswitchavx512.a\n")
  endif()
  string(APPEND mri "SAVE\nEND\n")
  file(WRITE "${LMH_OVS_OUTPUT}.mri" "${mri}")
  file(REMOVE "${LMH_OVS_OUTPUT}.tmp")
  execute_process(COMMAND "${LMH_OVS_AR}" -M INPUT_FILE "${LMH_OVS_OUTPUT}.mri" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "merging the Open vSwitch archives failed (${rc})")
  endif()
  file(RENAME "${LMH_OVS_OUTPUT}.tmp" "${LMH_OVS_OUTPUT}")
  # The system libraries libopenvswitch needs are fixed when CMake
  # configures (before this build ran); fail loudly if configure found more
  # than lmh_openvswitch links (e.g. a new optional dependency).
  file(STRINGS "${LMH_OVS_BUILD_DIR}/lib/libopenvswitch.la" dep_line REGEX "^dependency_libs=")
  # Whole words only: a path such as /work/wt-libs/... contains "-l" too.
  string(REGEX REPLACE "^dependency_libs='(.*)'$" "\\1" dep_words "${dep_line}")
  separate_arguments(dep_words UNIX_COMMAND "${dep_words}")
  list(FILTER dep_words INCLUDE REGEX "^-l")
  set(found_libs ${dep_words})
  string(REPLACE "," ";" expected_libs "${LMH_OVS_EXPECTED_LIBS}")
  foreach(lib IN LISTS found_libs)
    if(NOT lib IN_LIST expected_libs)
      message(FATAL_ERROR "libopenvswitch needs ${lib}, which cmake/openvswitch.cmake does not link; "
                          "disable it in the configure options or add it to lmh_openvswitch")
    endif()
  endforeach()
  return()
endif()

include(ExternalProject)

# Another build tree's Open vSwitch (its <build>/openvswitch, built by the
# ExternalProject below), linked instead of building one here: the fuzz tree
# (make fuzz) reuses the main build's. The library is C built with the other
# tree's compiler; nothing of it is rebuilt from here.
set(LMH_OVS_PREBUILT_DIR "" CACHE PATH
    "Open vSwitch built by another lmh build tree (<build>/openvswitch); empty: build it here")

# OVS generates the IDL with Python (and cmake/ovn_idl.cmake OVN's); the
# system interpreter has all it needs.
find_program(LMH_OVS_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
find_program(LMH_OVS_PYTHON3 NAMES python3 REQUIRED)
# What libopenvswitch links with the configure options below (checked after
# the build by the script above).
set(ovs_system_libs -latomic -lm)

if(LMH_OVS_PREBUILT_DIR)
  set(ovs_prefix ${LMH_OVS_PREBUILT_DIR})
  if(NOT EXISTS "${ovs_prefix}/stamp/openvswitch_build-done" OR NOT EXISTS "${ovs_prefix}/liblmh_openvswitch.a")
    message(FATAL_ERROR "LMH_OVS_PREBUILT_DIR=${ovs_prefix} holds no built Open vSwitch "
                        "(build that tree first, or leave LMH_OVS_PREBUILT_DIR empty)")
  endif()
  set(ovs_src ${ovs_prefix}/src)
  set(ovs_build ${ovs_prefix}/build)
  set(ovs_lib ${ovs_prefix}/liblmh_openvswitch.a)
  # The targets the rest of the build orders itself after, with nothing to do.
  add_custom_target(openvswitch_build)
  add_custom_target(openvswitch_build-download)
else()
  set(LMH_OVS_TARBALL /usr/src/openvswitch/openvswitch.tar.gz CACHE FILEPATH
      "Open vSwitch source tarball (Debian package openvswitch-source)")
  if(NOT EXISTS "${LMH_OVS_TARBALL}")
    message(FATAL_ERROR "${LMH_OVS_TARBALL} not found: install Debian package openvswitch-source "
                        "(make deps does), or set LMH_OVS_TARBALL")
  endif()

  set(ovs_prefix ${CMAKE_BINARY_DIR}/openvswitch)
  set(ovs_src ${ovs_prefix}/src)
  set(ovs_build ${ovs_prefix}/build)
  set(ovs_lib ${ovs_prefix}/liblmh_openvswitch.a)
  string(REPLACE ";" "," ovs_system_libs_csv "${ovs_system_libs}")

  cmake_host_system_information(RESULT ovs_jobs QUERY NUMBER_OF_LOGICAL_CORES)
  # The sub-make must not try to join CMake's make jobserver through the
  # wrappers in between; it gets its own -j.
  set(ovs_make ${CMAKE_COMMAND} -E env --unset=MAKEFLAGS --unset=MFLAGS --unset=MAKELEVEL make -j${ovs_jobs})

  ExternalProject_Add(openvswitch_build
    PREFIX ${ovs_prefix}
    URL ${LMH_OVS_TARBALL}
    # Keep the tarball's timestamps: configure and Makefile.in must stay newer
    # than configure.ac and Makefile.am, or make would try to rerun automake.
    DOWNLOAD_EXTRACT_TIMESTAMP TRUE
    SOURCE_DIR ${ovs_src}
    BINARY_DIR ${ovs_build}
    STAMP_DIR ${ovs_prefix}/stamp
    # openvswitch_build-download: the extracted source alone, for what needs
    # only OVS's scripts (cmake/ovn_idl.cmake runs its IDL compiler).
    STEP_TARGETS download
    # Minimal: no SSL, no libcap-ng, no unbound (DNS names in remotes) — the lab
    # talks to unix sockets only. Static, without debug info: ~1 minute.
    CONFIGURE_COMMAND <SOURCE_DIR>/configure
      --disable-ssl --disable-libcapng --disable-afxdp
      --enable-static --disable-shared
      --disable-dependency-tracking --enable-silent-rules
      ac_cv_lib_unbound_ub_ctx_create=no
      PYTHON3=${LMH_OVS_PYTHON3}
      CC=${CMAKE_C_COMPILER}
      "CFLAGS=-O2 -g0"
    # Only the library and the headers it is compiled against: first the
    # generated sources every lib/ object may include (part of BUILT_SOURCES),
    # then lib/libopenvswitch.la (which compiles lib/vswitch-idl.c).
    BUILD_COMMAND ${ovs_make}
        include/odp-netlink.h include/odp-netlink-macros.h ofproto/ipfix-entities.def
        lib/vswitch-idl.h lib/vswitch-idl.c lib/ovsdb-server-idl.h lib/ovsdb-server-idl.c
      COMMAND ${ovs_make} lib/libopenvswitch.la
      COMMAND ${CMAKE_COMMAND} -DLMH_OVS_BUILD_DIR=${ovs_build} -DLMH_OVS_OUTPUT=${ovs_lib}
        -DLMH_OVS_AR=${CMAKE_AR} -DLMH_OVS_EXPECTED_LIBS=${ovs_system_libs_csv}
        -P ${CMAKE_CURRENT_LIST_FILE}
    INSTALL_COMMAND ""
    BUILD_BYPRODUCTS ${ovs_lib}
    LOG_CONFIGURE TRUE
    LOG_BUILD TRUE
    LOG_OUTPUT_ON_FAILURE TRUE
  )
endif()

# Include directories must exist when CMake generates, before the build
# extracted anything.
set(ovs_include_dirs ${ovs_src}/include ${ovs_src}/lib ${ovs_src}
                     ${ovs_build}/include ${ovs_build}/lib ${ovs_build})
file(MAKE_DIRECTORY ${ovs_include_dirs})

add_library(lmh_openvswitch INTERFACE)
foreach(dir ${ovs_include_dirs})
  target_include_directories(lmh_openvswitch SYSTEM INTERFACE $<$<COMPILE_LANGUAGE:C>:${dir}>)
endforeach()
target_link_libraries(lmh_openvswitch INTERFACE ${ovs_lib} ${ovs_system_libs} Threads::Threads)
add_dependencies(lmh_openvswitch openvswitch_build)
