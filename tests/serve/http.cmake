# serve: HTTP-level robustness of `torchless serve` against a real server on 127.0.0.1 (keep-alive,
# pipelining, chunked bodies, 100-continue, every limit and deadline, fuzzing, overload, graceful
# shutdown, access log). run_serve_http.py prints "serve-http: N passed, N failed"; scripts/test
# runs it as a runner suite.
add_test(NAME serve_http
         COMMAND ${TL_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/serve/run_serve_http.py
                 --cli $<TARGET_FILE:torchless_cli> --work ${TL_TESTDATA}/serve_http)
set_tests_properties(serve_http PROPERTIES LABELS serve TIMEOUT 600)
