# Sanitizer options for every test of a DTR_SANITIZE build (the asan preset). ctest includes
# this file before it runs anything (the root CMakeLists.txt adds it to TEST_INCLUDE_FILES),
# so `ctest --preset asan` and `ctest --test-dir DIR` alike export these to every test and
# to every process a test starts (the dtr a script runs writes its reports to its log, which
# ci/lib.sh's lib_sanitizer_reports scans). A report stops the process: ASan errors always,
# UBSan because of -fno-sanitize-recover (and halt_on_error here), leaks when the process
# exits. Its exit status is then 23 (LSan's own), not the runtimes' default 1, which our
# tools use for a verdict (dtr-conformance: a MUST failed; dtr-fuzz: findings), so a crashed
# tool is never read as one that answered. Options already in the environment come last, so
# a developer's own ASAN_OPTIONS etc. win.
set(ENV{ASAN_OPTIONS} "halt_on_error=1:detect_leaks=1:exitcode=23:check_initialization_order=1:strict_init_order=1:$ENV{ASAN_OPTIONS}")
set(ENV{UBSAN_OPTIONS} "halt_on_error=1:print_stacktrace=1:exitcode=23:$ENV{UBSAN_OPTIONS}")
set(ENV{LSAN_OPTIONS}
  "suppressions=${CMAKE_CURRENT_LIST_DIR}/lsan.supp:print_suppressions=0:$ENV{LSAN_OPTIONS}")
