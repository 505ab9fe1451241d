# Unit tests of the server's own modules (gtest; label unit, so the ASan build runs them too).
add_executable(serve_unit_tests serve/batcher_test.cc)
target_link_libraries(serve_unit_tests PRIVATE torchless_serve GTest::gtest_main ONNX::onnx)
gtest_discover_tests(serve_unit_tests DISCOVERY_MODE PRE_TEST PROPERTIES LABELS unit)

# libFuzzer: request bodies through the handler (precheck + handle) on two real models.
tl_serve_fuzz(serve_request serve/fuzz_serve_request.cc
              ${TL_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/serve/make_request_seeds.py)
