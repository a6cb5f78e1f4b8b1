# find_package(cppworker) for out-of-tree plugins: gives cppworker::plugin_api and
# cppworker_add_plugin().
include(${CMAKE_CURRENT_LIST_DIR}/cppworkerTargets.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/CppworkerPlugin.cmake)
