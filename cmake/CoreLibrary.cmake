# The core is one static library per folder of core/src, cppworker_<folder>, each on a layer of
# the graph drawn in README.md ("Repository layout"). A library links PRIVATE the core libraries
# it uses, which must be on lower layers (tests/structure checks the links), and sees only their
# headers and its own: each library's include root holds nothing but a link to its own folder, so
# an include of a library it does not link fails to compile.

# What every core library gets: the settings the core is compiled with and the third-party
# libraries nearly all of it uses (the static bundle swaps fmt and spdlog here, cmake/StaticBundle.cmake).
add_library(cppworker_core_base INTERFACE)
target_compile_definitions(cppworker_core_base INTERFACE BOOST_DLL_USE_STD_FS BOOST_ASIO_NO_DEPRECATED)
target_link_libraries(cppworker_core_base INTERFACE cppworker::plugin_api Boost::headers fmt::fmt spdlog::spdlog
                      Threads::Threads)

# cppworker_core_library(<folder> LAYER <n> [USES <folder>...] [EXTERNAL <target>...])
function(cppworker_core_library name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "LAYER" "USES;EXTERNAL")
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/${name}/*.cpp)
  add_library(cppworker_${name} STATIC ${sources})
  set(root ${CMAKE_CURRENT_BINARY_DIR}/include/${name})
  file(MAKE_DIRECTORY ${root})
  file(CREATE_LINK ${CMAKE_CURRENT_SOURCE_DIR}/src/${name} ${root}/${name} SYMBOLIC)
  target_include_directories(cppworker_${name} PUBLIC ${root})
  list(TRANSFORM arg_USES PREPEND cppworker_)
  target_link_libraries(cppworker_${name} PRIVATE ${arg_USES} PUBLIC cppworker_core_base ${arg_EXTERNAL})
  cppworker_warnings(cppworker_${name})
  set_target_properties(cppworker_${name} PROPERTIES CPPWORKER_LAYER ${arg_LAYER})
  set_property(GLOBAL APPEND PROPERTY CPPWORKER_CORE_LIBRARIES ${name})
endfunction()

# Writes <file>: one line per core library, "<folder> <layer> <folder it links>...", from the
# targets' LINK_LIBRARIES as they stand once every CMakeLists.txt has run, for tests/structure.
function(cppworker_write_core_graph file)
  get_property(names GLOBAL PROPERTY CPPWORKER_CORE_LIBRARIES)
  set(text "")
  foreach(name IN LISTS names)
    get_target_property(layer cppworker_${name} CPPWORKER_LAYER)
    get_target_property(links cppworker_${name} LINK_LIBRARIES)
    set(line "${name} ${layer}")
    foreach(link IN LISTS links)
      if(link MATCHES "^cppworker_(.+)$" AND NOT link STREQUAL "cppworker_core_base")
        string(APPEND line " ${CMAKE_MATCH_1}")
      endif()
    endforeach()
    string(APPEND text "${line}\n")
  endforeach()
  file(WRITE ${file} "${text}")
endfunction()
