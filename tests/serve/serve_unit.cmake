# Unit tests of the server's own modules (gtest; label unit, so the ASan build runs them too).
add_executable(serve_unit_tests serve/batcher_test.cc)
target_link_libraries(serve_unit_tests PRIVATE torchless_serve GTest::gtest_main ONNX::onnx)
gtest_discover_tests(serve_unit_tests DISCOVERY_MODE PRE_TEST PROPERTIES LABELS unit)

# libFuzzer: request bodies through the handler (precheck + handle) on two real models.
if(TORCHLESS_FUZZ)
  add_test(NAME make_fuzz_seeds_serve_request
           COMMAND ${TL_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/serve/make_request_seeds.py ${TL_TESTDATA}/fuzz/serve_request)
  set_tests_properties(make_fuzz_seeds_serve_request PROPERTIES FIXTURES_SETUP fuzz_seeds_serve_request LABELS fuzz)
  add_executable(fuzz_serve_request serve/fuzz_serve_request.cc)
  target_link_libraries(fuzz_serve_request PRIVATE torchless_serve ONNX::onnx)
  target_compile_options(fuzz_serve_request PRIVATE -fsanitize=fuzzer)
  target_link_options(fuzz_serve_request PRIVATE -fsanitize=fuzzer)
  add_test(NAME fuzz_serve_request
           COMMAND fuzz_serve_request -max_total_time=${TL_FUZZ_SECONDS} -seed=1 -rss_limit_mb=2048
                   -malloc_limit_mb=512 -timeout=5 ${TL_TESTDATA}/fuzz/serve_request)
  set_tests_properties(fuzz_serve_request PROPERTIES LABELS fuzz FIXTURES_REQUIRED fuzz_seeds_serve_request)
endif()
