# Unit tests of the server's own modules (gtest; label unit, so the ASan build runs them too).
add_executable(serve_unit_tests serve/batcher_test.cc)
target_link_libraries(serve_unit_tests PRIVATE torchless_serve GTest::gtest_main ONNX::onnx)
gtest_discover_tests(serve_unit_tests DISCOVERY_MODE PRE_TEST PROPERTIES LABELS unit)
