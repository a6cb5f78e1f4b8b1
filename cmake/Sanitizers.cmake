if(CPPWORKER_SANITIZE AND CPPWORKER_TSAN)
  message(FATAL_ERROR "CPPWORKER_SANITIZE (ASan + UBSan) and CPPWORKER_TSAN cannot be combined: pick one")
endif()
if(CPPWORKER_SANITIZE)
  # Plugins are built with the same flags, so a plugin's bad access is caught too.
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
if(CPPWORKER_TSAN)
  # Plugins too: a race between a plugin's thread and the host's is the kind this build is for.
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
  # Asio's fenced blocks put a std::atomic_thread_fence around each handler call, which TSan does
  # not model (GCC refuses it under -Werror). They are redundant here: a handler is handed from
  # thread to thread through the scheduler's mutex-guarded queue, which TSan does see.
  add_compile_definitions(BOOST_ASIO_DISABLE_FENCED_BLOCK)
endif()
# Sanitizers bring allocators of their own, and make timings meaningless.
if(CPPWORKER_SANITIZE OR CPPWORKER_TSAN)
  set(CPPWORKER_ANY_SANITIZER ON)
else()
  set(CPPWORKER_ANY_SANITIZER OFF)
endif()
