// libFuzzer target for the .npy reader (header grammar, dtype table, data size).
#include "fuzz_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return torchless::fuzz_reader(data, size, "fuzz.npy", torchless::formats::read_npy);
}
