# serve: the JSON writer, the metrics registry and the multipart parser (src/serve/json_writer,
# metrics, multipart). run_jsonmetrics.py generates the golden data (Python's json.dumps, numpy,
# prometheus_client, python-multipart), runs serve-jsonmetrics-test in each mode and prints
# "serve_jsonmetrics: N passed, N failed"; scripts/test runs it as a runner suite.
add_executable(serve_jsonmetrics_test serve/jsonmetrics_test.cc)
set_target_properties(serve_jsonmetrics_test PROPERTIES OUTPUT_NAME serve-jsonmetrics-test)
target_include_directories(serve_jsonmetrics_test PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(serve_jsonmetrics_test PRIVATE torchless_serve Threads::Threads)
add_test(NAME serve_jsonmetrics
         COMMAND ${TL_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/serve/run_jsonmetrics.py
                 --bin $<TARGET_FILE:serve_jsonmetrics_test> --work ${TL_TESTDATA}/serve_jsonmetrics)
set_tests_properties(serve_jsonmetrics PROPERTIES LABELS serve TIMEOUT 600)

if(TORCHLESS_FUZZ)
  add_test(NAME make_fuzz_seeds_multipart
           COMMAND ${TL_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/serve/run_jsonmetrics.py
                   --seeds ${TL_TESTDATA}/fuzz/multipart)
  set_tests_properties(make_fuzz_seeds_multipart PROPERTIES FIXTURES_SETUP fuzz_seeds_multipart LABELS fuzz)
  add_executable(fuzz_multipart serve/fuzz_multipart.cc)
  target_include_directories(fuzz_multipart PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(fuzz_multipart PRIVATE torchless_serve)
  target_compile_options(fuzz_multipart PRIVATE -fsanitize=fuzzer)
  target_link_options(fuzz_multipart PRIVATE -fsanitize=fuzzer)
  add_test(NAME fuzz_multipart
           COMMAND fuzz_multipart -max_total_time=${TL_FUZZ_SECONDS} -seed=1 -rss_limit_mb=2048
                   -malloc_limit_mb=512 -timeout=5 ${TL_TESTDATA}/fuzz/multipart)
  set_tests_properties(fuzz_multipart PROPERTIES LABELS fuzz FIXTURES_REQUIRED fuzz_seeds_multipart)
endif()
