# Warnings are errors in our own code only: targets opt in, third-party headers come in as SYSTEM.
function(cppworker_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror)
endfunction()
