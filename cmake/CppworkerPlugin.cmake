# cppworker_add_plugin(<name> SOURCES <files...> [LINK <targets...>])
#
# Builds <name>.so the way the plugin ABI expects: only the descriptor symbol is exported
# (version script), hidden visibility, and no undefined symbols, since a plugin links nothing from
# the host.
set(_cppworker_plugin_map ${CMAKE_CURRENT_LIST_DIR}/plugin.map)

function(cppworker_add_plugin name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LINK" ${ARGN})
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE cppworker::plugin_api ${ARG_LINK})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LINK_DEPENDS ${_cppworker_plugin_map})
  if(DEFINED CPPWORKER_PLUGIN_OUTPUT_DIR)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CPPWORKER_PLUGIN_OUTPUT_DIR})
  endif()
  target_link_options(${name} PRIVATE
    "LINKER:--version-script=${_cppworker_plugin_map}"
    "LINKER:--no-undefined")
endfunction()
