# A "room" is one directory under src/ built as one static library, insitu_<room>.
# Sources are globbed so adding a file needs no CMake edit. Per-ISA kernel sources are
# recognised by their directory (x86/avx2, x86/avx512, x86/amx) and get exactly that ISA's
# flags; everything else is compiled for the x86-64 baseline and must dispatch at run time.
set(INSITU_FLAGS_AVX2 -mavx2 -mfma -mf16c -mbmi2)
set(INSITU_FLAGS_AVX512 -mavx2 -mfma -mf16c -mbmi2 -mavx512f -mavx512bw -mavx512vl -mavx512dq
    -mavx512vnni -mavx512bf16 -mavx512vbmi -mavx512vbmi2 -mgfni)
set(INSITU_FLAGS_AMX ${INSITU_FLAGS_AVX512} -mamx-tile -mamx-int8 -mamx-bf16)
# Rooms whose float code must reproduce reference bytes exactly (the quantizers) are built
# without FMA contraction: under -mfma GCC fuses a*b+c, even _mm512_add_ps(_mm512_mul_ps(..)).
set(INSITU_NO_CONTRACT_ROOMS quant)

function(insitu_add_room room)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS
       ${CMAKE_CURRENT_SOURCE_DIR}/${room}/*.cpp ${CMAKE_CURRENT_SOURCE_DIR}/${room}/*.c)
  foreach(s ${srcs})
    if(s MATCHES "/x86/avx2/")
      set_source_files_properties(${s} PROPERTIES COMPILE_OPTIONS "${INSITU_FLAGS_AVX2}")
    elseif(s MATCHES "/x86/avx512/")
      set_source_files_properties(${s} PROPERTIES COMPILE_OPTIONS "${INSITU_FLAGS_AVX512}")
    elseif(s MATCHES "/x86/amx/")
      set_source_files_properties(${s} PROPERTIES COMPILE_OPTIONS "${INSITU_FLAGS_AMX}")
    endif()
  endforeach()
  string(REPLACE "/" "_" target_suffix ${room})
  if(NOT srcs)  # a room still being built: headers only
    add_library(insitu_${target_suffix} INTERFACE)
    target_include_directories(insitu_${target_suffix} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(insitu_${target_suffix} INTERFACE ${ARG_DEPS})
    return()
  endif()
  add_library(insitu_${target_suffix} STATIC ${srcs})
  target_include_directories(insitu_${target_suffix} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(insitu_${target_suffix} PUBLIC ${ARG_DEPS})
  set_target_properties(insitu_${target_suffix} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  if(room IN_LIST INSITU_NO_CONTRACT_ROOMS)
    target_compile_options(insitu_${target_suffix} PRIVATE -ffp-contract=off)
  endif()
endfunction()

# insitu_add_test(NAME SOURCES... LIBS ... LABELS ...): one gtest binary, one ctest entry.
function(insitu_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_compile_definitions(${name} PRIVATE
      INSITU_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
      INSITU_SHARED_DIR="${PROJECT_SOURCE_DIR}/../shared"
      INSITU_BINARY_DIR="${PROJECT_BINARY_DIR}")
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}"
      ENVIRONMENT "INSITU_BIN=$<TARGET_FILE:insitu>")
endfunction()
