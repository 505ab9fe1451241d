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

tl_serve_fuzz(multipart serve/fuzz_multipart.cc
              ${TL_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/serve/run_jsonmetrics.py --seeds)
