# The image pipeline of `torchless serve` (src/serve/image.cc) against torchvision:
#   make_images.py OUTDIR writes inputs + expected tensors; torchless-test-image OUTDIR compares.
add_executable(torchless_test_image ${CMAKE_CURRENT_SOURCE_DIR}/serve/image_test.cc)
set_target_properties(torchless_test_image PROPERTIES OUTPUT_NAME torchless-test-image)
target_include_directories(torchless_test_image PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(torchless_test_image PRIVATE torchless_serve)

# probe_image + preprocess_image on arbitrary bytes, small limits; seeds: a few tiny images
tl_serve_fuzz(image ${CMAKE_CURRENT_SOURCE_DIR}/serve/fuzz_image.cc
              ${TL_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/serve/make_fuzz_image_seeds.py)
