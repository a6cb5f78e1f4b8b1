# CPPWORKER_STATIC_BUNDLE: the build of the relocatable bundle (preset "bundle", launch/package.sh).
# Every ELF file it installs needs nothing from the system but glibc (2.34 or later) and its base
# libraries: libstdc++ and libgcc are linked in statically, Boost.JSON and OpenSSL from their .a,
# fmt and spdlog header-only. Debian ships mimalloc as a shared library only: it is installed in
# <prefix>/lib beside bin/ and found through the rpath $ORIGIN/../lib. cmake/bundle/glibc_compat.c
# keeps the glibc symbol versions at GLIBC_2.34 or below (see there).
#
# Included from the top-level CMakeLists.txt before its find_package calls;
# cppworker_static_bundle_targets() is called there once every target exists.

set(Boost_USE_STATIC_LIBS ON)
set(OPENSSL_USE_STATIC_LIBS ON)

# Every executable and module of the tree, plugins included.
add_link_options(-static-libstdc++ -static-libgcc)

add_library(cppworker_glibc_compat OBJECT ${CMAKE_CURRENT_LIST_DIR}/bundle/glibc_compat.c)
set_target_properties(cppworker_glibc_compat PROPERTIES C_STANDARD 99 C_EXTENSIONS ON)
target_compile_options(cppworker_glibc_compat PRIVATE -Wall -Wextra -Wpedantic -Werror)

function(_cppworker_bundle_collect dir out)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub IN LISTS subdirs)
    _cppworker_bundle_collect(${sub} more)
    list(APPEND targets ${more})
  endforeach()
  set(${out} ${targets} PARENT_SCOPE)
endfunction()

function(cppworker_static_bundle_targets)
  # fmt and spdlog are compiled into the worker: Debian's shared ones would bring libstdc++.so.
  if(NOT TARGET cppworker_bundle_spdlog)
    add_library(cppworker_bundle_spdlog INTERFACE)
    get_target_property(spdlog_includes spdlog::spdlog INTERFACE_INCLUDE_DIRECTORIES)
    target_include_directories(cppworker_bundle_spdlog SYSTEM INTERFACE ${spdlog_includes})
    target_compile_definitions(cppworker_bundle_spdlog INTERFACE SPDLOG_HEADER_ONLY SPDLOG_FMT_EXTERNAL)
    target_link_libraries(cppworker_bundle_spdlog INTERFACE fmt::fmt-header-only Threads::Threads)
  endif()
  get_target_property(libs cppworker_core_base INTERFACE_LINK_LIBRARIES)
  list(TRANSFORM libs REPLACE "^fmt::fmt$" "fmt::fmt-header-only")
  list(TRANSFORM libs REPLACE "^spdlog::spdlog$" "cppworker_bundle_spdlog")
  set_property(TARGET cppworker_core_base PROPERTY INTERFACE_LINK_LIBRARIES ${libs})

  _cppworker_bundle_collect(${PROJECT_SOURCE_DIR} targets)
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    if(type STREQUAL "EXECUTABLE" OR type STREQUAL "MODULE_LIBRARY" OR type STREQUAL "SHARED_LIBRARY")
      target_link_libraries(${target} PRIVATE cppworker_glibc_compat)
    endif()
  endforeach()

  if(TARGET mimalloc)
    set_target_properties(cppworker PROPERTIES INSTALL_RPATH "\$ORIGIN/../lib")
    install(IMPORTED_RUNTIME_ARTIFACTS mimalloc LIBRARY DESTINATION lib)
  endif()
endfunction()
