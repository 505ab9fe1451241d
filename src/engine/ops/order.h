// A strict weak order on element values for the sorting ops (TopK, Unique): the usual <, with
// every NaN equivalent to every other and greater than all numbers.
#pragma once

#include <cmath>
#include <type_traits>

namespace torchless::engine {

template <class C>
bool value_less(C a, C b) {
  if constexpr (std::is_floating_point_v<C>) {
    if (std::isnan(a)) return false;
    if (std::isnan(b)) return true;
  }
  return a < b;
}

}  // namespace torchless::engine
