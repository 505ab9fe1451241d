// NonMaxSuppression (opsets 10, 11): per batch and class, boxes whose score exceeds
// score_threshold are taken greedily by descending score (ties: lower index first), dropping
// those whose IoU with an already selected box exceeds iou_threshold, until
// max_output_boxes_per_class (default 0: none) are selected. Boxes are [y1, x1, y2, x2] in any
// corner order (center_point_box=0) or [x_center, y_center, width, height] (=1). Output
// [selected, 3] int64 rows (batch, class, box index).
#include <algorithm>
#include <numeric>

#include "engine/kernel.h"

namespace torchless::engine {

namespace {

struct Box {
  double y1, x1, y2, x2;
};

double iou(const Box& a, const Box& b) {
  const double area_a = (a.y2 - a.y1) * (a.x2 - a.x1), area_b = (b.y2 - b.y1) * (b.x2 - b.x1);
  if (area_a <= 0 || area_b <= 0) return 0;
  const double h = std::min(a.y2, b.y2) - std::max(a.y1, b.y1), w = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  if (h <= 0 || w <= 0) return 0;
  const double inter = h * w;
  return inter / (area_a + area_b - inter);
}

std::vector<double> doubles(Kernel& k, const Tensor& t) {
  std::vector<double> r(static_cast<size_t>(t.numel()));
  dispatch(FloatTypes{}, t.dtype(), k.node, [&]<class T>() {
    for (size_t i = 0; i < r.size(); ++i) r[i] = static_cast<double>(load(data<T>(t)[i]));
  });
  return r;
}

}  // namespace

void non_max_suppression_run(Kernel& k) {
  const Tensor& boxes_t = k.in(0);
  const Tensor& scores_t = k.in(1);
  if (boxes_t.ndim() != 3 || boxes_t.shape()[2] != 4 || scores_t.ndim() != 3 ||
      scores_t.shape()[0] != boxes_t.shape()[0] || scores_t.shape()[2] != boxes_t.shape()[1])
    fail(Error::Code::kInvalidArgument, "boxes " + shape_text(boxes_t.shape()) + " and scores " +
                                            shape_text(scores_t.shape()) + " do not fit [B, N, 4] / [B, C, N]");
  const int64_t nb = boxes_t.shape()[0], nbox = boxes_t.shape()[1], nc = scores_t.shape()[1];
  const int64_t max_out = k.has_input(2) && k.in(2).numel() ? k.ints(2).at(0) : 0;
  const double iou_th = k.has_input(3) && k.in(3).numel() ? k.scalar(3) : 0.0;
  const bool has_score_th = k.has_input(4) && k.in(4).numel();
  const double score_th = has_score_th ? k.scalar(4) : 0.0;
  const bool center = k.node.attr_int("center_point_box", 0) != 0;
  const std::vector<double> bv = doubles(k, boxes_t), sv = doubles(k, scores_t);
  std::vector<Box> boxes(static_cast<size_t>(nb * nbox));
  for (size_t i = 0; i < boxes.size(); ++i) {
    const double* p = bv.data() + i * 4;
    if (center)
      boxes[i] = {p[1] - p[3] / 2, p[0] - p[2] / 2, p[1] + p[3] / 2, p[0] + p[2] / 2};
    else
      boxes[i] = {std::min(p[0], p[2]), std::min(p[1], p[3]), std::max(p[0], p[2]), std::max(p[1], p[3])};
  }
  std::vector<int64_t> out;
  for (int64_t b = 0; b < nb; ++b)
    for (int64_t c = 0; c < nc && max_out > 0; ++c) {
      const double* s = sv.data() + (b * nc + c) * nbox;
      std::vector<int64_t> cand;
      for (int64_t i = 0; i < nbox; ++i)
        if (!has_score_th || s[i] > score_th) cand.push_back(i);
      std::stable_sort(cand.begin(), cand.end(), [&](int64_t x, int64_t y) { return s[x] > s[y]; });
      std::vector<int64_t> sel;
      for (int64_t i : cand) {
        if (static_cast<int64_t>(sel.size()) >= max_out) break;
        const Box& bi = boxes[static_cast<size_t>(b * nbox + i)];
        bool keep = true;
        for (int64_t j : sel) keep = keep && iou(bi, boxes[static_cast<size_t>(b * nbox + j)]) <= iou_th;
        if (keep) sel.push_back(i);
      }
      for (int64_t i : sel) out.insert(out.end(), {b, c, i});
    }
  Tensor& y = k.out(0, DType::kInt64, {static_cast<int64_t>(out.size() / 3), 3});
  std::copy(out.begin(), out.end(), mut<int64_t>(y));
}

}  // namespace torchless::engine
