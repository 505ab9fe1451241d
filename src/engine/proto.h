// ONNX protobuf input under limits (hostile-inputs ONNX-01..08), shared by the engine and by
// `inspect`/`convert` of an ONNX file (formats/onnx_weights.cc).
//
// parse_model() first walks the bytes at the wire level with an explicit stack (every varint,
// length, group and field number checked, message nesting capped at onnx.max_nesting), then
// lets the generated classes parse them with a total-size cap and a recursion limit.
// TensorDecoder turns a TensorProto into a Tensor:
//   raw_data     little-endian bytes, length must be numel x itemsize (moved out of the
//                message, not copied);
//   typed fields float_data / int32_data / int64_data / double_data / uint64_data, the one
//                the data type calls for, count numel (x2 for complex), converted into an
//                owned buffer with range checks for the narrow types;
//   external     location relative to the model's directory, no '..', no absolute path, no
//                symlink on the way, a regular file with one link; offset/length checked
//                against that file before it is mapped (once per file).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <onnx/onnx_pb.h>

#include "core/file.h"
#include "torchless/tensor.h"

namespace torchless::engine {

inline constexpr uint64_t kMaxNesting = 64;  // onnx.max_nesting (hostile-inputs section 4)

// Parses a ModelProto from `size` bytes (size <= max_bytes, else kLimitExceeded).
std::unique_ptr<onnx::ModelProto> parse_model(const uint8_t* data, uint64_t size, uint64_t max_bytes);

// The DType of an ONNX TensorProto data type (kCorrupt for UNDEFINED, kUnsupported for
// STRING and unknown codes); std::nullopt-returning variant for descriptions.
DType onnx_dtype(int code);
std::optional<DType> onnx_dtype_if(int code);

class TensorDecoder {
 public:
  struct Limits {
    uint64_t max_ndim = 64;
    uint64_t max_numel = uint64_t{1} << 40;
    bool map = true;  // mmap external files (else read them)
  };
  // model_path: the model file (external data is looked up next to it); empty for a model
  // given as bytes, which then may not use external data (kForbidden).
  TensorDecoder(const std::string& model_path, Limits limits);
  // Decodes t; raw_data is moved out of the message into the tensor's storage.
  Tensor read(onnx::TensorProto& t);

 private:
  Storage typed_storage(const onnx::TensorProto& t, DType dtype, uint64_t numel, uint64_t nbytes);
  Storage external_storage(const onnx::TensorProto& t, uint64_t nbytes, size_t align);

  Limits limits_;
  std::string dir_;
  std::map<std::string, std::shared_ptr<const MappedFile>> external_;
};

}  // namespace torchless::engine
