if(CPPWORKER_SANITIZE)
  # Plugins are built with the same flags, so a plugin's bad access is caught too.
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
