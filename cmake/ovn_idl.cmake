# OVN's northbound and southbound IDLs (nbrec_*, sbrec_*), generated at
# build time from the installed OVN schemas with Open vSwitch's own IDL
# compiler (ovsdb/ovsdb-idlc.in, run from the source tree that
# cmake/openvswitch.cmake extracts), exactly as OVS makes lib/vswitch-idl:
# "ovsdb-idlc annotate" adds the C prefix and header name to the schema,
# then c-idl-header / c-idl-source write the C.
#
# Debian packages no OVN development files, and generating from the
# installed schemas keeps the IDL in step with the ovsdb-servers OvnCentral
# runs on the same files. Debian ships them in package ovn-central (make deps
# installs it before cmake runs).
#
# Provides LMH_OVN_IDL_SOURCES (the two .c files) and LMH_OVN_IDL_INCLUDE_DIR
# (their headers), for C sources only (the generated headers include OVS's).
# Include after cmake/openvswitch.cmake.

set(LMH_OVN_SCHEMA_DIR /usr/share/ovn CACHE PATH "Directory of OVN's ovn-nb/ovn-sb .ovsschema files")
foreach(db nb sb)
  if(NOT EXISTS "${LMH_OVN_SCHEMA_DIR}/ovn-${db}.ovsschema")
    message(FATAL_ERROR "${LMH_OVN_SCHEMA_DIR}/ovn-${db}.ovsschema not found: install Debian package "
                        "ovn-central (make deps does), or set LMH_OVN_SCHEMA_DIR")
  endif()
endforeach()

set(LMH_OVN_IDL_INCLUDE_DIR ${CMAKE_BINARY_DIR}/ovn-idl)
file(MAKE_DIRECTORY ${LMH_OVN_IDL_INCLUDE_DIR})
set(ovn_idlc_script ${ovs_src}/ovsdb/ovsdb-idlc.in)
# As OVS's run_python: its python/ tree on the path, no .pyc files in it.
set(ovn_idlc ${CMAKE_COMMAND} -E env PYTHONPATH=${ovs_src}/python PYTHONDONTWRITEBYTECODE=yes
             ${LMH_OVS_PYTHON3} ${ovn_idlc_script})
# Order: after the extract step (its step target). Files: the tarball, whose
# mtime a new openvswitch-source package changes (the extracted files keep
# the tarball's old timestamps), and the compiler itself. Not the step's
# stamp file: naming another target's custom command output would copy that
# command (the extraction) into the target that builds the IDL.
set(ovn_idlc_depends ${LMH_OVS_TARBALL} ${ovn_idlc_script} openvswitch_build-download)

set(LMH_OVN_IDL_SOURCES)
foreach(db nb sb)
  set(schema ${LMH_OVN_SCHEMA_DIR}/ovn-${db}.ovsschema)
  set(ann ${CMAKE_CURRENT_LIST_DIR}/ovn_idl/ovn-${db}-idl.ann)
  set(out ${LMH_OVN_IDL_INCLUDE_DIR}/ovn-${db}-idl)
  # Each output is written to a temporary file and renamed, so a failed run
  # leaves no truncated output that make would take as up to date.
  add_custom_command(
    OUTPUT ${out}.ovsidl
    COMMAND ${ovn_idlc} annotate ${schema} ${ann} > ${out}.ovsidl.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${out}.ovsidl.tmp ${out}.ovsidl
    DEPENDS ${schema} ${ann} ${ovn_idlc_depends}
    COMMENT "Annotating OVN's ${db} schema for ovsdb-idlc"
    VERBATIM)
  add_custom_command(
    OUTPUT ${out}.h ${out}.c
    COMMAND ${ovn_idlc} c-idl-header ${out}.ovsidl > ${out}.h.tmp
    COMMAND ${ovn_idlc} c-idl-source ${out}.ovsidl > ${out}.c.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${out}.h.tmp ${out}.h
    COMMAND ${CMAKE_COMMAND} -E rename ${out}.c.tmp ${out}.c
    DEPENDS ${out}.ovsidl ${ovn_idlc_depends}
    COMMENT "Generating OVN's ${db} IDL (${db}rec_*)"
    VERBATIM)
  list(APPEND LMH_OVN_IDL_SOURCES ${out}.c)
endforeach()
# Generated code, not ours: compiled without our warning flags' noise.
set_source_files_properties(${LMH_OVN_IDL_SOURCES} PROPERTIES COMPILE_OPTIONS -w)
