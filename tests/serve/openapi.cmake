# OpenAPI document and /docs page (specs/serving.md 6.8): tl-docs-dump writes the document of an
# example set of models and the embedded page files; check_openapi.py validates them (OAS 3.0
# schema, routes, $refs, examples, no external URL); docs_page.py renders the page in headless
# Chromium against a small fake server (--fake) and clicks Try it through chromedriver.
add_executable(tl-docs-dump serve/docs_dump.cc)
target_include_directories(tl-docs-dump PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(tl-docs-dump PRIVATE torchless_serve)

add_test(NAME docs_dump COMMAND tl-docs-dump ${TL_TESTDATA}/docs/site)
set_tests_properties(docs_dump PROPERTIES FIXTURES_SETUP docs_site LABELS serve)
add_test(NAME openapi_check
         COMMAND ${TL_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/serve/check_openapi.py
                 --dump ${TL_TESTDATA}/docs/site)
set_tests_properties(openapi_check PROPERTIES FIXTURES_REQUIRED docs_site LABELS serve)
add_test(NAME docs_page
         COMMAND ${TL_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/serve/docs_page.py
                 --fake ${TL_TESTDATA}/docs/site --out ${TL_TESTDATA}/docs/browser)
set_tests_properties(docs_page PROPERTIES FIXTURES_REQUIRED docs_site LABELS serve TIMEOUT 180)
