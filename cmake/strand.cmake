# Small helpers so every folder's CMakeLists.txt reads the same way.

set(STRAND_WARNINGS -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers)
# clang checks the ABSL_GUARDED_BY / ABSL_EXCLUSIVE_LOCKS_REQUIRED annotations (absl::Mutex
# is annotated; std::mutex in libstdc++ is not, so shared state uses absl::Mutex).
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  list(APPEND STRAND_WARNINGS -Wthread-safety)
endif()
# In a unity build gcc sees each .cc as included from another file and warns when a class
# has a member of a type from the file's anonymous namespace; that is fine in a .cc file.
if(STRAND_UNITY AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  list(APPEND STRAND_WARNINGS -Wno-subobject-linkage)
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

# strand_cc_test(NAME name [COST seconds] [SHARDS n] SRCS ... DEPS ...): a gtest binary
# registered with ctest. `ctest -j` starts the costliest tests first; it learns each test's
# cost from the previous run in the same build tree, and COST (roughly the sanitizer run's
# seconds) gives the longest tests that head start in a fresh tree too. SHARDS splits a
# long binary into n ctest entries (name_1of<n>, ...) that each run a share of its tests
# (gtest's GTEST_TOTAL_SHARDS / GTEST_SHARD_INDEX), so `ctest -j` can spread it over cores.
function(strand_cc_test)
  if(NOT STRAND_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "NAME;COST;SHARDS" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_compile_options(${ARG_NAME} PRIVATE ${STRAND_WARNINGS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  set(shards 1)
  if(ARG_SHARDS)
    set(shards ${ARG_SHARDS})
  endif()
  # Sanitized debug builds run several times slower than the release build.
  if(STRAND_SANITIZE)
    set(timeout 900)
  else()
    set(timeout 300)
  endif()
  foreach(index RANGE 1 ${shards})
    if(shards EQUAL 1)
      set(test_name ${ARG_NAME})
    else()
      set(test_name ${ARG_NAME}_${index}of${shards})
    endif()
    add_test(NAME ${test_name} COMMAND ${ARG_NAME})
    set_tests_properties(${test_name} PROPERTIES LABELS unit TIMEOUT ${timeout})
    if(NOT shards EQUAL 1)
      math(EXPR shard_index "${index} - 1")
      set_tests_properties(${test_name} PROPERTIES
        ENVIRONMENT "GTEST_TOTAL_SHARDS=${shards};GTEST_SHARD_INDEX=${shard_index}")
    endif()
    if(ARG_COST)
      math(EXPR cost "${ARG_COST} / ${shards}")
      set_tests_properties(${test_name} PROPERTIES COST ${cost})
    endif()
  endforeach()
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
