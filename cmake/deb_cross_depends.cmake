# CPack project config for cross builds (CPACK_PROJECT_CONFIG_FILE, read by cpack, not cmake).
#
# dpkg-shlibdeps looks the binary's libraries up in the host's dpkg database, which has no
# arm64 packages (they are unpacked into a sysroot, scripts/arm64-sysroot). So the Depends
# of the .deb are made here the way dpkg-shlibdeps makes them from shlibs files: for each
# DT_NEEDED library of the binary, the dependency that the sysroot package shipping that
# library declares in its shlibs file (e.g. "libbpf 1 libbpf1 (>= 1.1.2)").
#
# Inputs (set in cmake/install.cmake): CPACK_NGXWATCH_BINARY, CPACK_NGXWATCH_READELF,
# CPACK_NGXWATCH_SHLIBS (all shlibs lines of the sysroot's packages).
if(NOT CPACK_GENERATOR STREQUAL "DEB" OR NOT CPACK_NGXWATCH_SHLIBS)
  return()
endif()

execute_process(COMMAND ${CPACK_NGXWATCH_READELF} -d ${CPACK_NGXWATCH_BINARY}
                OUTPUT_VARIABLE _dynamic RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "deb depends: ${CPACK_NGXWATCH_READELF} -d ${CPACK_NGXWATCH_BINARY} failed")
endif()
string(REGEX MATCHALL "\\(NEEDED\\)[^\n]*\\[[^]\n]*\\]" _needed "${_dynamic}")
file(STRINGS ${CPACK_NGXWATCH_SHLIBS} _shlibs)

set(_depends)
foreach(_line IN LISTS _needed)
  string(REGEX REPLACE ".*\\[(.*)\\]" "\\1" _soname "${_line}")
  # shlibs keys: libfoo.so.1.2 -> "libfoo 1.2"; libfoo-1.2.so -> "libfoo 1.2".
  # (Two tests: a failed MATCHES clears CMAKE_MATCH_n of an earlier one in the same if.)
  if(_soname MATCHES "^(.+)\\.so\\.(.+)$")
    set(_key "${CMAKE_MATCH_1} ${CMAKE_MATCH_2} ")
  elseif(_soname MATCHES "^(.+)-([0-9.]+)\\.so$")
    set(_key "${CMAKE_MATCH_1} ${CMAKE_MATCH_2} ")
  else()
    message(FATAL_ERROR "deb depends: cannot read the soname ${_soname} of ${CPACK_NGXWATCH_BINARY}")
  endif()
  set(_dep)
  foreach(_entry IN LISTS _shlibs)
    string(FIND "${_entry}" "${_key}" _at)
    if(_at EQUAL 0)
      string(LENGTH "${_key}" _len)
      string(SUBSTRING "${_entry}" ${_len} -1 _dep)
      break()
    endif()
  endforeach()
  if(NOT _dep)
    message(FATAL_ERROR "deb depends: no package in ${CPACK_NGXWATCH_SHLIBS} provides ${_soname}")
  endif()
  list(APPEND _depends "${_dep}")
endforeach()
list(REMOVE_DUPLICATES _depends)
list(SORT _depends)
list(JOIN _depends ", " CPACK_DEBIAN_PACKAGE_DEPENDS)
message(STATUS "deb depends: ${CPACK_DEBIAN_PACKAGE_DEPENDS}")
