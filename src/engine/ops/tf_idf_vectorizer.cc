// TfIdfVectorizer (opset 9): counts the n-grams of pool_int64s in each row of an int32/int64
// X ([C] or [N, C]). The pool lists the 1-grams, then the 2-grams, ... (ngram_counts[i] is where
// the (i+1)-grams start); n-gram number j is counted in Y[ngram_indexes[j]]. n-grams of length
// min_gram_length..max_gram_length are taken with every skip 0..max_skip_count between their
// items (1-grams once). mode TF: counts; IDF: min(count, 1) * weight; TFIDF: count * weight
// (weights default 1). String pools are not supported.
#include <map>

#include "engine/kernel.h"

namespace torchless::engine {

void tf_idf_vectorizer_run(Kernel& k) {
  const Node& n = k.node;
  if (n.attr("pool_strings")) fail(Error::Code::kUnsupported, "TfIdfVectorizer with pool_strings");
  const std::string mode = n.attr_string("mode", "");
  if (mode != "TF" && mode != "IDF" && mode != "TFIDF")
    fail(Error::Code::kInvalidArgument, "unknown mode '" + mode + "'");
  const int64_t min_n = n.attr_int("min_gram_length", 1), max_n = n.attr_int("max_gram_length", 1);
  const int64_t max_skip = n.attr_int("max_skip_count", 0);
  const std::vector<int64_t> counts = n.attr_ints("ngram_counts"), indexes = n.attr_ints("ngram_indexes");
  const std::vector<int64_t> pool = n.attr_ints("pool_int64s");
  const std::vector<float> weights = n.attr_floats("weights");
  if (min_n < 1 || max_n < min_n || max_skip < 0)
    fail(Error::Code::kInvalidArgument, "invalid n-gram lengths or skips");
  if (!weights.empty() && weights.size() != indexes.size())
    fail(Error::Code::kInvalidArgument, "weights must have one entry per n-gram");

  // The pool's n-grams -> their number j.
  std::map<std::vector<int64_t>, size_t> grams;
  size_t j = 0;
  for (size_t g = 0; g < counts.size(); ++g) {
    const int64_t len = static_cast<int64_t>(g) + 1;
    const int64_t begin = counts[g], end = g + 1 < counts.size() ? counts[g + 1] : static_cast<int64_t>(pool.size());
    if (begin < 0 || end < begin || end > static_cast<int64_t>(pool.size()) || (end - begin) % len)
      fail(Error::Code::kInvalidArgument, "ngram_counts do not fit pool_int64s");
    for (int64_t at = begin; at < end; at += len, ++j)
      grams.emplace(std::vector<int64_t>(pool.begin() + at, pool.begin() + at + len), j);
  }
  if (j != indexes.size()) fail(Error::Code::kInvalidArgument, "ngram_indexes must have one entry per n-gram");
  int64_t width = 0;
  for (int64_t i : indexes) {
    if (i < 0) fail(Error::Code::kInvalidArgument, "negative ngram index");
    width = std::max(width, i + 1);
  }

  const Tensor& x = k.in(0);
  if (x.ndim() < 1 || x.ndim() > 2) fail(Error::Code::kInvalidArgument, "X must be [C] or [N, C]");
  const int64_t rows = x.ndim() == 2 ? x.shape()[0] : 1, cols = x.shape().back();
  const std::vector<int64_t> xv = k.ints(0);
  std::vector<int64_t> out_shape = x.ndim() == 2 ? std::vector<int64_t>{rows, width} : std::vector<int64_t>{width};
  float* y = mut<float>(k.out(0, DType::kFloat32, out_shape));
  std::vector<int64_t> key;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t* row = xv.data() + r * cols;
    std::vector<double> cnt(indexes.size(), 0.0);
    for (int64_t len = min_n; len <= max_n; ++len)
      for (int64_t skip = 0; skip <= (len == 1 ? 0 : max_skip); ++skip)
        for (int64_t s = 0; s + (len - 1) * (skip + 1) < cols; ++s) {
          key.clear();
          for (int64_t q = 0; q < len; ++q) key.push_back(row[s + q * (skip + 1)]);
          if (auto it = grams.find(key); it != grams.end()) cnt[it->second] += 1;
        }
    for (size_t g = 0; g < cnt.size(); ++g) {
      const double w = weights.empty() ? 1.0 : weights[g];
      const double v = mode == "TF" ? cnt[g] : mode == "IDF" ? std::min(cnt[g], 1.0) * w : cnt[g] * w;
      y[r * width + indexes[g]] = static_cast<float>(v);
    }
  }
}

}  // namespace torchless::engine
