# docket(1), generated from the program's own --help (packaging/make_manpage.sh),
# and the Debian package: `cpack -G DEB` in a build directory writes
# docket_<version>_amd64.deb with the docket program, the man page, the
# systemd unit docket.service (user "docket", /var/lib/docket) and
# /etc/docket/docket.conf (mongod.conf's shape). The library's headers and
# archives (component dev) stay out of it: they are for `cmake --install`.

set(DOCKET_MANPAGE ${PROJECT_BINARY_DIR}/docket.1.gz)
add_custom_command(
  OUTPUT ${DOCKET_MANPAGE}
  COMMAND sh ${PROJECT_SOURCE_DIR}/packaging/make_manpage.sh $<TARGET_FILE:docket> ${PROJECT_VERSION}
          > ${PROJECT_BINARY_DIR}/docket.1
  COMMAND gzip -n -9 -f ${PROJECT_BINARY_DIR}/docket.1
  DEPENDS docket ${PROJECT_SOURCE_DIR}/packaging/make_manpage.sh
  COMMENT "docket(1) from docket --help")
add_custom_target(docket_manpage ALL DEPENDS ${DOCKET_MANPAGE})
install(FILES ${DOCKET_MANPAGE} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT server)

# Only in the package (EXCLUDE_FROM_ALL: `cmake --install` to a prefix does
# not write /etc or a systemd unit): the service's unit and configuration.
install(FILES ${PROJECT_SOURCE_DIR}/packaging/docket.service DESTINATION lib/systemd/system
        COMPONENT server EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/docket.conf DESTINATION /etc/docket
        COMPONENT server EXCLUDE_FROM_ALL)

set(CPACK_PACKAGE_NAME docket)
set(CPACK_PACKAGE_VENDOR "the Docket project")
set(CPACK_PACKAGE_CONTACT "Docket maintainers <docket@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "document database with MongoDB semantics (server and data tools)")
set(CPACK_PACKAGE_DESCRIPTION
    "Docket answers the MongoDB wire protocol: MongoDB drivers, ODMs and mongosh work against it unchanged. The package holds the docket program (docket serve, docket mongod, dump/restore/export/import/backup), its man page and a systemd service.")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL server)
set(CPACK_DEBIAN_SERVER_PACKAGE_NAME docket)
set(CPACK_DEBIAN_SERVER_FILE_NAME DEB-DEFAULT)  # docket_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # Depends from the program's shared libraries (dpkg-shlibdeps)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/postinst ${PROJECT_SOURCE_DIR}/packaging/prerm ${PROJECT_SOURCE_DIR}/packaging/postrm
    ${PROJECT_SOURCE_DIR}/packaging/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)  # the program without its debugging symbols
set(CPACK_GENERATOR DEB)
include(CPack)
