// Hugging Face sharded output (formats.md 9): splits a state dict with huggingface_hub's rule
// and writes model-0000i-of-0000N.safetensors (or pytorch_model-0000i-of-0000N.bin through the
// torch writer) next to `path`, then the index `path`.index.json, last, so the index never
// names a shard that is not complete. Every file is written atomically. As huggingface_hub
// does, a split that gives a single shard is written unsharded under `path`, without index.
#include <algorithm>
#include <cstdio>
#include <map>

#include "core/check.h"
#include "formats/writers.h"

namespace torchless::formats {
namespace {

// huggingface_hub's split_state_dict_into_shards_factory: names in order; the first name of a
// storage carries the storage's size and decides the shard, later names of that storage join
// it; a storage bigger than the limit gets a shard of its own (appended at once); otherwise a
// new shard starts when adding the storage would exceed the limit.
struct Split {
  std::vector<std::vector<size_t>> shards;  // indices into the state dict
  uint64_t total_size = 0;
};

Split split(const StateDict& sd, uint64_t limit) {
  Split s;
  std::vector<size_t> current;
  uint64_t current_size = 0;
  std::map<std::pair<const std::byte*, size_t>, std::vector<size_t>> storages;  // first index, others
  std::vector<std::vector<size_t>> followers;
  for (size_t i = 0; i < sd.size(); ++i) {
    const Tensor& t = sd[i].second;
    const Storage& st = t.storage();
    if (st.data() != nullptr) {
      auto [it, fresh] = storages.try_emplace({st.data(), st.nbytes()}, std::vector<size_t>{i});
      if (!fresh) {
        it->second.push_back(i);
        continue;
      }
    }
    const uint64_t size = st.data() != nullptr ? st.nbytes() : t.nbytes();
    s.total_size = add_u64(s.total_size, size, "total size");
    if (size > limit) {
      s.shards.push_back({i});
      continue;
    }
    if (current_size + size > limit) {
      s.shards.push_back(std::move(current));
      current.clear();
      current_size = 0;
    }
    current.push_back(i);
    current_size += size;
  }
  if (!current.empty()) s.shards.push_back(std::move(current));
  for (const auto& [key, names] : storages) {
    if (names.size() < 2) continue;
    for (auto& shard : s.shards)
      if (std::find(shard.begin(), shard.end(), names[0]) != shard.end()) {
        shard.insert(shard.end(), names.begin() + 1, names.end());
        break;
      }
  }
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void write_file(const std::string& path, const std::string& text) {
  AtomicFile f(path);
  f.write(text.data(), text.size());
  f.commit();
}

}  // namespace

void write_shards(const StateDict& sd, const std::string& path, const SaveOptions& options) {
  // The extension decides (.bin: torch shards, .safetensors: safetensors), else the format.
  const bool bin = ends_with(path, ".bin") || (!ends_with(path, ".safetensors") && options.format == SaveFormat::kTorch);
  const Split s = split(sd, options.shard_size);

  // Progress over all shards: each shard's bytes on top of the shards before it.
  uint64_t before = 0;
  SaveOptions o = options;
  o.format = bin ? SaveFormat::kTorch : SaveFormat::kSafetensors;
  o.shard_size = 0;
  auto write_one = [&](const std::vector<size_t>& idx, const std::string& file) {
    StateDict part;
    uint64_t size = 0;
    for (size_t i : idx) part.push_back(sd[i]);
    if (options.progress)
      o.progress = [&](uint64_t done, uint64_t total) {
        size = total;
        options.progress(std::min(before + done, s.total_size), s.total_size);
      };
    if (bin) unwrap(save_state_dict(part, file, o));
    else write_safetensors(part, file, o);
    before += size;
  };
  if (s.shards.size() <= 1) {
    write_one(s.shards.empty() ? std::vector<size_t>{} : s.shards[0], path);
    return;
  }

  // "dir/model.safetensors" -> "dir/" + "model" + "-00001-of-00003" + ".safetensors"
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  const std::string base = path.substr(dir.size());
  const size_t dot = base.rfind('.');
  const std::string stem = base.substr(0, dot), ext = dot == std::string::npos ? "" : base.substr(dot);
  const size_t n = s.shards.size();
  std::map<std::string, std::string> weight_map;  // sorted by name, as sort_keys=True
  for (size_t k = 0; k < n; ++k) {
    char tag[40];
    std::snprintf(tag, sizeof tag, "-%05zu-of-%05zu", k + 1, n);
    const std::string shard = stem + tag + ext;
    write_one(s.shards[k], dir + shard);
    for (size_t i : s.shards[k]) weight_map[sd[i].first] = shard;
  }

  // json.dumps(index, indent=2, sort_keys=True) + "\n"
  std::string index = "{\n  \"metadata\": {\n    \"total_size\": " + std::to_string(s.total_size) +
                      "\n  },\n  \"weight_map\": {";
  bool first = true;
  for (const auto& [name, shard] : weight_map) {
    index += (first ? "\n    " : ",\n    ") + json_quote(name) + ": " + json_quote(shard);
    first = false;
  }
  index += weight_map.empty() ? "}\n}\n" : "\n  }\n}\n";
  write_file(path + ".index.json", index);
}

}  // namespace torchless::formats
