// Einsum (opset 12): the Einstein summation `equation` over the inputs. Terms hold letters and
// at most one "..." (the operands' leading/unnamed dims, broadcast numpy-style across
// operands); a letter repeated within a term takes the diagonal; letters absent from the
// output are summed. Without "->" the output is the "..." dims followed by the letters that
// occur exactly once, in ASCII order. Computed by iterating every label combination;
// accumulates in double (64-bit integers for integer inputs).
#include <algorithm>
#include <string>

#include "engine/ops/reduce.h"

namespace torchless::engine {

namespace {

constexpr int kLetters = 52;  // label ids: a-z, A-Z, then one per "..." dim

int letter_id(char c) { return c >= 'a' && c <= 'z' ? c - 'a' : c - 'A' + 26; }

// One term's labels, with -1 marking where "..." stands; kInvalidArgument on other characters.
std::vector<int> parse_term(const std::string& t) {
  std::vector<int> labels;
  bool ellipsis = false;
  for (size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      labels.push_back(letter_id(c));
    } else if (c == '.' && t.compare(i, 3, "...") == 0 && !ellipsis) {
      ellipsis = true;
      labels.push_back(-1);
      i += 2;
    } else {
      fail(Error::Code::kInvalidArgument, "bad einsum term '" + t + "'");
    }
  }
  return labels;
}

// Replaces -1 by the ids of the `n` trailing "..." dims of an `e`-dim ellipsis.
std::vector<int> expand(const std::vector<int>& term, int64_t n, int64_t e) {
  std::vector<int> r;
  for (int l : term)
    if (l >= 0)
      r.push_back(l);
    else
      for (int64_t j = e - n; j < e; ++j) r.push_back(kLetters + static_cast<int>(j));
  return r;
}

}  // namespace

void einsum_run(Kernel& k) {
  std::string eq;
  for (char c : k.node.attr_string("equation", ""))
    if (c != ' ') eq += c;
  const size_t arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  std::vector<std::vector<int>> terms;
  for (size_t start = 0;;) {
    const size_t comma = lhs.find(',', start);
    terms.push_back(parse_term(lhs.substr(start, comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  const size_t n_in = k.num_inputs();
  if (terms.size() != n_in)
    fail(Error::Code::kInvalidArgument,
         "equation has " + std::to_string(terms.size()) + " terms for " + std::to_string(n_in) + " inputs");
  const DType dt = k.in(0).dtype();
  // "..." dims of each operand, broadcast right-aligned.
  std::vector<int64_t> ell_rank(n_in, 0), ell_shape;
  for (size_t i = 0; i < n_in; ++i) {
    const Tensor& t = k.in(i);
    if (t.dtype() != dt) fail(Error::Code::kInvalidArgument, "inputs have different types");
    const bool has_ell = std::count(terms[i].begin(), terms[i].end(), -1) > 0;
    const auto named = static_cast<int64_t>(terms[i].size()) - (has_ell ? 1 : 0);
    const int64_t rank = static_cast<int64_t>(t.ndim());
    if (rank < named || (!has_ell && rank != named))
      fail(Error::Code::kInvalidArgument,
           "input " + std::to_string(i) + " " + shape_text(t.shape()) + " does not fit its einsum term");
    ell_rank[i] = rank - named;
    if (ell_rank[i] == 0) continue;
    const size_t at = std::find(terms[i].begin(), terms[i].end(), -1) - terms[i].begin();
    ell_shape = broadcast_shapes(
        {ell_shape, std::vector<int64_t>(t.shape().begin() + at, t.shape().begin() + at + ell_rank[i])}, k.node);
  }
  const auto e = static_cast<int64_t>(ell_shape.size());
  // Label sizes; operand dims of size 1 broadcast only for "..." dims.
  std::vector<int64_t> size(kLetters + e, -1);
  std::vector<int> count(kLetters + e, 0);
  std::vector<std::vector<int>> labels(n_in);
  for (int64_t j = 0; j < e; ++j) size[kLetters + j] = ell_shape[j];
  for (size_t i = 0; i < n_in; ++i) {
    labels[i] = expand(terms[i], ell_rank[i], e);
    for (size_t d = 0; d < labels[i].size(); ++d) {
      const int l = labels[i][d];
      const int64_t s = k.in(i).shape()[d];
      ++count[l];
      if (l >= kLetters) continue;
      if (size[l] >= 0 && size[l] != s)
        fail(Error::Code::kInvalidArgument,
             "einsum label sizes differ (" + std::to_string(size[l]) + " and " + std::to_string(s) + ")");
      size[l] = s;
    }
  }
  std::vector<int> out;
  if (arrow == std::string::npos) {
    for (int64_t j = 0; j < e; ++j) out.push_back(kLetters + static_cast<int>(j));
    std::vector<char> letters;
    for (int l = 0; l < kLetters; ++l)
      if (count[l] == 1) letters.push_back(static_cast<char>(l < 26 ? 'a' + l : 'A' + l - 26));
    std::sort(letters.begin(), letters.end());
    for (char c : letters) out.push_back(letter_id(c));
  } else {
    out = expand(parse_term(eq.substr(arrow + 2)), e, e);
    for (size_t a = 0; a < out.size(); ++a) {
      if (out[a] < kLetters && size[out[a]] < 0)
        fail(Error::Code::kInvalidArgument, "output label not among the inputs in '" + eq + "'");
      if (std::count(out.begin(), out.end(), out[a]) > 1)
        fail(Error::Code::kInvalidArgument, "repeated output label in '" + eq + "'");
    }
  }
  // Iteration order: output labels, then the summed ones.
  std::vector<int> order = out;
  for (int l = 0; l < kLetters + e; ++l)
    if (size[l] >= 0 && std::find(out.begin(), out.end(), l) == out.end()) order.push_back(l);
  std::vector<int64_t> out_shape, sum_shape;
  for (size_t a = 0; a < order.size(); ++a) (a < out.size() ? out_shape : sum_shape).push_back(size[order[a]]);
  const int64_t n_out = numel(out_shape), n_sum = numel(sum_shape);
  // Per operand, the element stride of each label (summed over repeated labels: diagonals).
  std::vector<std::vector<int64_t>> stride(n_in, std::vector<int64_t>(kLetters + e, 0));
  for (size_t i = 0; i < n_in; ++i) {
    const std::vector<int64_t> own = strides_of(k.in(i).shape());
    for (size_t d = 0; d < labels[i].size(); ++d)
      if (k.in(i).shape()[d] != 1) stride[i][labels[i][d]] += own[d];
  }
  dispatch(NumericTypes{}, dt, k.node, [&]<class T>() {
    using A = acc_t<T>;
    T* py = mut<T>(k.out(0, dt, out_shape));
    std::vector<const T*> in(n_in);
    for (size_t i = 0; i < n_in; ++i) in[i] = data<T>(k.in(i));
    std::vector<int64_t> idx(order.size(), 0);
    for (int64_t o = 0; o < n_out; ++o) {
      A acc = 0;
      std::fill(idx.begin() + static_cast<int64_t>(out.size()), idx.end(), 0);
      for (int64_t s = 0; s < n_sum; ++s) {
        A prod = 1;
        for (size_t i = 0; i < n_in; ++i) {
          int64_t off = 0;
          for (size_t a = 0; a < order.size(); ++a) off += idx[a] * stride[i][order[a]];
          prod *= static_cast<A>(load(in[i][off]));
        }
        acc += prod;
        for (size_t a = order.size(); a-- > out.size();) {
          if (++idx[a] < size[order[a]]) break;
          idx[a] = 0;
        }
      }
      py[o] = store<T>(acc);
      for (size_t a = out.size(); a-- > 0;) {
        if (++idx[a] < size[order[a]]) break;
        idx[a] = 0;
      }
    }
  });
}

}  // namespace torchless::engine
