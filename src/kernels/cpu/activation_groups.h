// Decode kernels keep one accumulator per activation row in registers, sized for at most four
// rows; a problem with more (the dispatcher sends at most four to the GEMVs, but every m is
// correct) runs in groups of four. Plain C++, shared by every ISA.
#pragma once

#include <cstdint>
#include <type_traits>

namespace insitu::kernels {

// f(std::integral_constant<int, M>{}, q) for each group of M <= 4 activation rows, q being p
// restricted to them (x, y and m adjusted; Problem: QuantProblem or DenseProblem).
template <class Problem, class F>
void for_each_activation_group(const Problem& p, F&& f) {
  Problem q = p;
  for (int64_t i0 = 0; i0 < p.m; i0 += 4) {
    q.x = p.x + i0 * p.cols;
    q.y = p.y + i0 * p.rows;
    q.m = p.m - i0 < 4 ? p.m - i0 : 4;
    switch (q.m) {
      case 1: f(std::integral_constant<int, 1>{}, q); break;
      case 2: f(std::integral_constant<int, 2>{}, q); break;
      case 3: f(std::integral_constant<int, 3>{}, q); break;
      default: f(std::integral_constant<int, 4>{}, q); break;
    }
  }
}

}  // namespace insitu::kernels
