// libFuzzer target for the safetensors reader (header JSON, entry checks, exact tiling).
#include "fuzz_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return torchless::fuzz_reader(data, size, "fuzz.safetensors", torchless::formats::read_safetensors);
}
