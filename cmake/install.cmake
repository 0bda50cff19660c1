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

# The unit in systemd/ names the Debian paths (/usr/sbin, /etc) so that it can be verified
# as it is; installed elsewhere, it must name the paths of this prefix.
file(READ ${CMAKE_CURRENT_LIST_DIR}/../systemd/ngxwatch.service _ngxwatch_unit)
string(REPLACE "/usr/sbin/ngxwatch" "${CMAKE_INSTALL_FULL_SBINDIR}/ngxwatch"
       _ngxwatch_unit "${_ngxwatch_unit}")
string(REPLACE "/etc/ngxwatch/" "${CMAKE_INSTALL_FULL_SYSCONFDIR}/ngxwatch/"
       _ngxwatch_unit "${_ngxwatch_unit}")
file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/install/ngxwatch.service CONTENT "${_ngxwatch_unit}")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${CMAKE_CURRENT_LIST_DIR}/../systemd/ngxwatch.service)

set(_ngxwatch_src ${CMAKE_CURRENT_LIST_DIR}/..)

install(TARGETS ngxwatch RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(FILES ${CMAKE_BINARY_DIR}/install/ngxwatch.service
        DESTINATION ${NGXWATCH_SYSTEMD_UNITDIR})
install(FILES ${_ngxwatch_src}/systemd/ngxwatch.sysusers
        DESTINATION ${NGXWATCH_SYSUSERSDIR} RENAME ngxwatch.conf)
# An absolute path: GNUInstallDirs maps sysconfdir to /etc (not /usr/etc) for prefix /usr.
install(FILES ${_ngxwatch_src}/systemd/ngxwatch.conf
        DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/ngxwatch)
install(FILES ${_ngxwatch_src}/systemd/ngxwatch.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(DIRECTORY ${_ngxwatch_src}/deploy/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/ngxwatch/deploy)

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
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "nginx | nginx-core | nginx-light | nginx-full | nginx-extras")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${_ngxwatch_src}/packaging/debian/conffiles
    ${_ngxwatch_src}/packaging/debian/postinst
    ${_ngxwatch_src}/packaging/debian/prerm
    ${_ngxwatch_src}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
