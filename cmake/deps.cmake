# Every dependency is a Debian package (scripts/install-deps installs them).
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)          # nlohmann-json3-dev
find_package(CLI11 REQUIRED)                       # libcli11-dev
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)   # libpcre2-dev
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc) # libutf8proc-dev
find_package(yaml-cpp REQUIRED)                    # libyaml-cpp-dev
find_package(tomlplusplus REQUIRED)                # libtomlplusplus-dev
if(INSITU_BUILD_TESTS)
  find_package(GTest REQUIRED)                     # libgtest-dev
endif()
if(INSITU_BUILD_BENCH)
  find_package(benchmark REQUIRED)                 # libbenchmark-dev
endif()
