# Debian packages, built with `cpack -G DEB` in a build directory (or
# scripts/package):
#   libapache2-mod-cscguard  the module and mods-available/cscguard.{load,conf}
#   cscguard                 the CA tool and its man page
# Two packages, as Debian splits modules from tools: a CA host needs the tool
# without httpd, and a node the module without the CA. Each takes its
# library dependencies from dpkg-shlibdeps; the module also depends on the
# httpd module ABI it was built for (apache2-api-YYYYMMDD, as every Debian
# libapache2-mod-* does).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME mod-cscguard)
set(CPACK_PACKAGE_VENDOR "mod_cscguard")
set(CPACK_PACKAGE_CONTACT "mod_cscguard developers <cscguard@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # NAME_VERSION-RELEASE_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

set(CPACK_COMPONENTS_ALL)
if(CSCGUARD_BUILD_MODULE)
  list(APPEND CPACK_COMPONENTS_ALL module)
  # The module ABI of the headers built against: `apache2-api-20120211` on 2.4.
  file(STRINGS "${APXS_INCLUDEDIR}/ap_mmn.h" mmn REGEX "^#define MODULE_MAGIC_NUMBER_MAJOR [0-9]+")
  string(REGEX REPLACE ".* ([0-9]+)$" "\\1" mmn "${mmn}")
  file(STRINGS "${APXS_INCLUDEDIR}/ap_mmn.h" mmn_minor REGEX "^#define MODULE_MAGIC_NUMBER_MINOR [0-9]+")
  string(REGEX REPLACE "^#define MODULE_MAGIC_NUMBER_MINOR ([0-9]+).*" "\\1" mmn_minor "${mmn_minor}")  # a comment follows
  if(NOT mmn MATCHES "^[0-9]+$" OR NOT mmn_minor MATCHES "^[0-9]+$")
    message(FATAL_ERROR "no MODULE_MAGIC_NUMBER_MAJOR/MINOR in ${APXS_INCLUDEDIR}/ap_mmn.h: cannot name httpd's module ABI")
  endif()
  set(CPACK_DEBIAN_MODULE_PACKAGE_NAME libapache2-mod-cscguard)
  set(CPACK_DEBIAN_MODULE_PACKAGE_SECTION httpd)
  # ap_ssl_var_lookup() came with 2.4.47 (MMN 20120211.102): a module built
  # to call it does not load into an older httpd of the same ABI.
  set(CPACK_DEBIAN_MODULE_PACKAGE_DEPENDS "apache2-api-${mmn}")
  if(NOT CSCGUARD_SSL_OPTIONAL_FN AND mmn_minor GREATER_EQUAL 102)
    string(APPEND CPACK_DEBIAN_MODULE_PACKAGE_DEPENDS ", apache2-bin (>= 2.4.47)")
  endif()
  set(CPACK_DEBIAN_MODULE_PACKAGE_RECOMMENDS "cscguard")
  # The first line is the synopsis, the others the extended description.
  string(CONCAT CPACK_DEBIAN_MODULE_DESCRIPTION
      "client-certificate access rules for Apache httpd\n"
      "mod_cscguard decides per location which client-certificate holders get in:\n"
      "serial allowlists, e-mail and subject rules, CRLs reloaded live, and a\n"
      "fleet-wide revocation cache in Redis. Enable it with `a2enmod cscguard`.")
  # conffiles (an admin's edits survive upgrades), the module disabled
  # before it is removed, as dh_apache2 does (a removed module must never be
  # left enabled, or apachectl configtest fails on the dangling LoadModule),
  # and apache2 restarted after an upgrade when the module is enabled.
  set(CPACK_DEBIAN_MODULE_PACKAGE_CONTROL_EXTRA
      "${CMAKE_CURRENT_BINARY_DIR}/debian/conffiles;${CMAKE_CURRENT_SOURCE_DIR}/cmake/debian/postinst;${CMAKE_CURRENT_SOURCE_DIR}/cmake/debian/prerm;${CMAKE_CURRENT_SOURCE_DIR}/cmake/debian/postrm")
  set(CPACK_DEBIAN_MODULE_PACKAGE_CONTROL_STRICT_PERMISSION ON)
  file(WRITE "${CMAKE_CURRENT_BINARY_DIR}/debian/conffiles"
       "${CSCGUARD_MODULE_CONF_DIR}/cscguard.load\n${CSCGUARD_MODULE_CONF_DIR}/cscguard.conf\n")
  install(FILES README.md DESTINATION share/doc/libapache2-mod-cscguard COMPONENT module)
  install(FILES conf/example-site.conf DESTINATION share/doc/libapache2-mod-cscguard/examples COMPONENT module)
endif()
if(CSCGUARD_BUILD_TOOL)
  list(APPEND CPACK_COMPONENTS_ALL tool)
  set(CPACK_DEBIAN_TOOL_PACKAGE_NAME cscguard)
  set(CPACK_DEBIAN_TOOL_PACKAGE_SECTION admin)
  string(CONCAT CPACK_DEBIAN_TOOL_DESCRIPTION
      "small CA for client-certificate sites protected by mod_cscguard\n"
      "cscguard issues client certificates (.p12 for browsers), revokes them, and\n"
      "writes the CRL and allowlists mod_cscguard enforces; it can push\n"
      "revocations to the fleet's Redis at once.")
  install(FILES README.md DESTINATION share/doc/cscguard COMPONENT tool)
endif()

include(CPack)
