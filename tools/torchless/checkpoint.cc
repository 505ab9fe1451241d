// torchless checkpoint list|latest|prune DIR [--keep N] [--json]
// A CheckpointManager directory from the shell: list its versions, print the newest
// checkpoint's path (for scripts: torch.load($(torchless checkpoint latest runs/exp1))), or
// keep only the N newest.
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <cstdio>
#include <iostream>

#include "commands.h"
#include "torchless/checkpoint.h"

namespace torchless::cli {
namespace {

std::string metrics_text(const CheckpointInfo& c) {
  std::string s;
  char buf[64];
  for (const auto& [k, v] : c.metrics) {
    std::snprintf(buf, sizeof buf, "%.6g", v);
    s += (s.empty() ? "" : " ") + k + "=" + buf;
  }
  return s.empty() ? "-" : s;
}

uint64_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

nlohmann::json to_json(const CheckpointInfo& c) {
  nlohmann::json j = {{"name", c.name},         {"path", c.path},       {"step", c.step},
                      {"metrics", c.metrics},   {"created_at", c.created_at},
                      {"bytes", file_size(c.path)}, {"torchless_version", c.torchless_version}};
  j["epoch"] = c.epoch ? nlohmann::json(*c.epoch) : nlohmann::json(nullptr);
  return j;
}

void print_json(const std::vector<CheckpointInfo>& all) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& c : all) j.push_back(to_json(c));
  std::printf("%s\n", j.dump(2).c_str());
}

void print_table(const std::vector<CheckpointInfo>& all) {
  std::printf("%-36s %10s %7s  %-20s  %10s  %s\n", "name", "step", "epoch", "created_at", "bytes", "metrics");
  for (const auto& c : all)
    std::printf("%-36s %10lld %7s  %-20s  %10llu  %s\n", c.name.c_str(), static_cast<long long>(c.step),
                c.epoch ? std::to_string(*c.epoch).c_str() : "-", c.created_at.c_str(),
                static_cast<unsigned long long>(file_size(c.path)), metrics_text(c).c_str());
}

}  // namespace

int checkpoint(const CheckpointArgs& args) {
  if (args.action == "prune") {
    if (args.keep < 1) {
      std::cerr << "torchless checkpoint prune: --keep N (at least 1) is required\n";
      return 2;
    }
    CheckpointOptions o;
    o.retention.keep_last = static_cast<size_t>(args.keep);
    auto m = CheckpointManager::open(args.dir, o);
    if (!m) return report(m.error());
    auto removed = (*m)->prune();
    if (!removed) return report(removed.error());
    if (args.json) print_json(*removed);
    else
      for (const auto& c : *removed) std::printf("removed %s\n", c.name.c_str());
    return 0;
  }
  auto all = list_checkpoints(args.dir);
  if (!all) return report(all.error());
  if (args.action == "latest") {
    if (all->empty())
      return report(Error(Error::Code::kNotFound, "no committed checkpoint in the directory").path(args.dir));
    if (args.json) std::printf("%s\n", to_json(all->back()).dump(2).c_str());
    else std::printf("%s\n", all->back().path.c_str());
    return 0;
  }
  if (args.json) print_json(*all);
  else print_table(*all);
  return 0;
}

}  // namespace torchless::cli
