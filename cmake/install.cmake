# Install layout and Debian package (CPack).
#
# Included from the top-level CMakeLists.txt after the `ngxwatch` target is defined:
#   include(cmake/install.cmake)
#
#   cmake --install build                      # /usr/local by default
#   cmake --install build --prefix /usr        # the layout of the .deb
#   cd build && cpack -G DEB                   # ngxwatch_<version>_<arch>.deb
#
# What goes where (prefix /usr):
#   /usr/sbin/ngxwatch                          the daemon
#   /usr/lib/systemd/system/ngxwatch.service    the hardened unit (paths adjusted to the prefix)
#   /usr/lib/sysusers.d/ngxwatch.conf           user and group "ngxwatch"
#   /etc/ngxwatch/ngxwatch.conf                 default configuration (a conffile in the .deb)
#   /usr/share/man/man8/ngxwatch.8              man page
#   /usr/share/ngxwatch/deploy/...              Prometheus rules, Grafana dashboard, DaemonSet

include(GNUInstallDirs)

set(NGXWATCH_SYSTEMD_UNITDIR "lib/systemd/system" CACHE STRING
    "Where the systemd unit is installed (relative to the prefix, or absolute)")
set(NGXWATCH_SYSUSERSDIR "lib/sysusers.d" CACHE STRING
    "Where the sysusers.d(5) file is installed (relative to the prefix, or absolute)")

set(_ngxwatch_src ${CMAKE_CURRENT_LIST_DIR}/..)

install(TARGETS ngxwatch RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(FILES ${_ngxwatch_src}/systemd/ngxwatch.sysusers
        DESTINATION ${NGXWATCH_SYSUSERSDIR} RENAME ngxwatch.conf)
install(FILES ${_ngxwatch_src}/systemd/ngxwatch.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(DIRECTORY ${_ngxwatch_src}/deploy/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/ngxwatch/deploy
        USE_SOURCE_PERMISSIONS)  # deploy/ci/release-gate.sh stays executable

# The configuration and the unit depend on the prefix given at *install* time
# (`cmake --install build --prefix P`, or /usr under CPack): prefix /usr puts the
# configuration in /etc (the Debian layout), any other prefix in P/etc. The unit in
# systemd/ names /usr/sbin and /etc so that it can be verified as it is; it is installed
# with the paths of the actual prefix. DESTDIR is honoured by file(INSTALL).
install(CODE "set(_ngxwatch_src \"${_ngxwatch_src}\")
set(_ngxwatch_sbindir \"${CMAKE_INSTALL_SBINDIR}\")
set(_ngxwatch_unitdir \"${NGXWATCH_SYSTEMD_UNITDIR}\")
set(_ngxwatch_tmp \"${CMAKE_BINARY_DIR}/install-gen\")")
install(CODE [[
  if(CMAKE_INSTALL_PREFIX STREQUAL "/usr" OR CMAKE_INSTALL_PREFIX STREQUAL "/usr/")
    set(_etc "/etc")
  else()
    set(_etc "${CMAKE_INSTALL_PREFIX}/etc")
  endif()
  file(INSTALL DESTINATION "${_etc}/ngxwatch" TYPE FILE
       FILES "${_ngxwatch_src}/systemd/ngxwatch.conf")
  file(READ "${_ngxwatch_src}/systemd/ngxwatch.service" _unit)
  string(REPLACE "/usr/sbin/ngxwatch" "${CMAKE_INSTALL_PREFIX}/${_ngxwatch_sbindir}/ngxwatch"
         _unit "${_unit}")
  string(REPLACE "/etc/ngxwatch/" "${_etc}/ngxwatch/" _unit "${_unit}")
  file(WRITE "${_ngxwatch_tmp}/ngxwatch.service" "${_unit}")
  if(IS_ABSOLUTE "${_ngxwatch_unitdir}")
    set(_unitdir "${_ngxwatch_unitdir}")
  else()
    set(_unitdir "${CMAKE_INSTALL_PREFIX}/${_ngxwatch_unitdir}")
  endif()
  file(INSTALL DESTINATION "${_unitdir}" TYPE FILE FILES "${_ngxwatch_tmp}/ngxwatch.service")
]])

# ---- Debian package -------------------------------------------------------------------
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "ngxwatch")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "ngxwatch")
set(CPACK_PACKAGE_CONTACT "ngxwatch maintainers <ngxwatch@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "eBPF monitor of nginx reverse proxies: who reset which connection, where, why")
set(CPACK_PACKAGE_DESCRIPTION
    "ngxwatch follows nginx from the kernel with eBPF and attributes every TCP reset and\
 failed upstream attempt to its upstream, server, location and request phase, exported\
 as Prometheus metrics.")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
# Install into the staging dir through DESTDIR with prefix /usr, so that the install
# code above sees /usr and puts the configuration in /etc.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
if(CMAKE_CROSSCOMPILING)
  # CPack would name the host's architecture (dpkg --print-architecture).
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
    set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE arm64)
  else()
    message(FATAL_ERROR "no Debian architecture known for ${CMAKE_SYSTEM_PROCESSOR}")
  endif()
  # dpkg-shlibdeps knows only the host's packages: Depends from the sysroot's shlibs
  # files instead (scripts/arm64-sysroot collects them).
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
  set(NGXWATCH_DEB_SHLIBS "${CMAKE_SYSROOT}/.ngxwatch/shlibs" CACHE FILEPATH
      "shlibs lines of the target's libraries (cross builds)")
  set(CPACK_NGXWATCH_SHLIBS "${NGXWATCH_DEB_SHLIBS}")
  set(CPACK_NGXWATCH_BINARY "${CMAKE_BINARY_DIR}/ngxwatch")
  set(CPACK_NGXWATCH_READELF "${CMAKE_READELF}")
  set(CPACK_PROJECT_CONFIG_FILE "${CMAKE_CURRENT_LIST_DIR}/deb_cross_depends.cmake")
endif()
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "nginx | nginx-core | nginx-light | nginx-full | nginx-extras")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${_ngxwatch_src}/packaging/debian/conffiles
    ${_ngxwatch_src}/packaging/debian/postinst
    ${_ngxwatch_src}/packaging/debian/prerm
    ${_ngxwatch_src}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
