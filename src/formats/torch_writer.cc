// save() in torch.save's zip layout (formats.md 1.5): data.pkl from the
// pickler, then the records torch 2.x writes, then every storage whole, streamed from the
// tensors' memory into an AtomicFile.
#include <string>

#include "core/atomic_file.h"
#include "core/check.h"
#include "formats/writers.h"
#include "pickle/pickler.h"
#include "torchless/save.h"
#include "zip/zip_writer.h"

namespace torchless {
namespace {

void write_torch(const Value& root, const std::string& path, const SaveOptions& options) {
  const TorchPickle pickle = pickle_for_torch(root);
  if (options.warn)
    for (const std::string& w : pickle.warnings) options.warn(w);
  // Payload bytes: the progress total and, with 512 bytes a record for headers, padding and
  // the central directory, the space to reserve.
  uint64_t total = pickle.data.size();
  for (const Storage& s : pickle.storages) total = add_u64(total, s.nbytes(), "torch file size");
  AtomicFile file(path, formats::file_progress(options, total));
  file.reserve(total + 512 * (pickle.storages.size() + 8));
  ZipWriter zip(file);
  zip.add("archive/data.pkl", pickle.data);
  zip.add("archive/.format_version", "1");
  zip.add("archive/.storage_alignment", "64");
  zip.add("archive/byteorder", "little");
  for (size_t i = 0; i < pickle.storages.size(); ++i) {
    const Storage& s = pickle.storages[i];
    zip.add("archive/data/" + std::to_string(i), {reinterpret_cast<const char*>(s.data()), s.nbytes()});
  }
  zip.add("archive/version", "3\n");
  zip.finish();
  file.commit();  // reports the whole file: (total, total)
}

void check_torch(const SaveOptions& options) {
  if (options.format != SaveFormat::kTorch || options.shard_size != 0)
    fail(Error::Code::kInvalidArgument, "save() writes one torch file; use save_state_dict() for safetensors or shards");
}

}  // namespace

Status save(const Value& root, const std::string& path, const SaveOptions& options) {
  return guard("torch writer", path, [&] {
    check_torch(options);
    write_torch(root, path, options);
  });
}

}  // namespace torchless
