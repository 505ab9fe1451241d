# The image pipeline of `torchless serve` (src/serve/image.cc) against torchvision:
#   make_images.py OUTDIR writes inputs + expected tensors; torchless-test-image OUTDIR compares.
add_executable(torchless_test_image ${CMAKE_CURRENT_SOURCE_DIR}/serve/image_test.cc)
set_target_properties(torchless_test_image PROPERTIES OUTPUT_NAME torchless-test-image)
target_include_directories(torchless_test_image PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(torchless_test_image PRIVATE torchless_serve)

if(TORCHLESS_FUZZ)
  # probe_image + preprocess_image on arbitrary bytes, small limits; seeds: a few tiny images
  add_test(NAME make_fuzz_image_seeds COMMAND ${TL_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/serve/make_fuzz_image_seeds.py
           ${TL_TESTDATA}/fuzz/image)
  set_tests_properties(make_fuzz_image_seeds PROPERTIES FIXTURES_SETUP fuzz_image_seeds LABELS fuzz)
  add_executable(fuzz_image ${CMAKE_CURRENT_SOURCE_DIR}/serve/fuzz_image.cc)
  target_include_directories(fuzz_image PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(fuzz_image PRIVATE torchless_serve)
  target_compile_options(fuzz_image PRIVATE -fsanitize=fuzzer)
  target_link_options(fuzz_image PRIVATE -fsanitize=fuzzer)
  add_test(NAME fuzz_image
           COMMAND fuzz_image -max_total_time=${TL_FUZZ_SECONDS} -seed=1 -rss_limit_mb=2048
                   -malloc_limit_mb=512 -timeout=5 ${TL_TESTDATA}/fuzz/image)
  set_tests_properties(fuzz_image PROPERTIES LABELS fuzz FIXTURES_REQUIRED fuzz_image_seeds)
endif()
