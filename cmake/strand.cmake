# Small helpers so every folder's CMakeLists.txt reads the same way.

set(STRAND_WARNINGS -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers)
# clang checks the ABSL_GUARDED_BY / ABSL_EXCLUSIVE_LOCKS_REQUIRED annotations (absl::Mutex
# is annotated; std::mutex in libstdc++ is not, so shared state uses absl::Mutex).
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  list(APPEND STRAND_WARNINGS -Wthread-safety)
endif()
# Our sources only (third-party headers come in as system includes).
if(STRAND_WERROR)
  list(APPEND STRAND_WARNINGS -Werror)
endif()

if(STRAND_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    # Findings in Debian's headers, each explained in the file.
    add_compile_options(-fsanitize-ignorelist=${CMAKE_CURRENT_LIST_DIR}/sanitizer_ignorelist.txt)
  endif()
endif()

# strand_cc_library(NAME name SRCS ... DEPS ...)
function(strand_cc_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(${ARG_NAME} STATIC ${ARG_SRCS})
  target_compile_options(${ARG_NAME} PRIVATE ${STRAND_WARNINGS})
  target_link_libraries(${ARG_NAME} PUBLIC ${ARG_DEPS})
endfunction()

# strand_cc_test(NAME name [COST seconds] SRCS ... DEPS ...): a gtest binary registered with
# ctest. `ctest -j` starts the costliest tests first; it learns each test's cost from the
# previous run in the same build tree, and COST (roughly the sanitizer run's seconds) gives
# the longest tests that head start in a fresh tree too.
function(strand_cc_test)
  if(NOT STRAND_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "NAME;COST" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_compile_options(${ARG_NAME} PRIVATE ${STRAND_WARNINGS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME})
  # Sanitized debug builds run several times slower than the release build.
  if(STRAND_SANITIZE)
    set_tests_properties(${ARG_NAME} PROPERTIES LABELS unit TIMEOUT 900)
  else()
    set_tests_properties(${ARG_NAME} PROPERTIES LABELS unit TIMEOUT 300)
  endif()
  if(ARG_COST)
    set_tests_properties(${ARG_NAME} PROPERTIES COST ${ARG_COST})
  endif()
  set_property(GLOBAL APPEND PROPERTY STRAND_UNIT_TESTS ${ARG_NAME})
endfunction()

# strand_cc_benchmark(NAME name SRCS ... DEPS ...): a Google Benchmark binary; ctest runs it
# once, briefly, so it does not rot.
function(strand_cc_benchmark)
  if(NOT STRAND_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_compile_options(${ARG_NAME} PRIVATE ${STRAND_WARNINGS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} benchmark::benchmark benchmark::benchmark_main)
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME} --benchmark_min_time=0.01)
  set_tests_properties(${ARG_NAME} PROPERTIES LABELS benchmark TIMEOUT 300)
  set_property(GLOBAL APPEND PROPERTY STRAND_BENCHMARKS ${ARG_NAME})
endfunction()
