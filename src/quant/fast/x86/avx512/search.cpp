// Vector transcriptions of make_qkx2/3_quants, make_qx_quants (rmse_type 1) and
// make_q3_quants. Every scalar branch on a per-sub-block value became a lane mask; every loop
// keeps its order, so each lane's sums accumulate exactly as the scalar ones.
#include "quant/fast/x86/avx512/search.h"

#include "quant/ggml/quant_math.h"

namespace insitu::fastq::avx512 {

namespace {

// The searches are instantiated for the sub-block sizes in use (16, 32) so every inner loop
// has a constant trip count and no per-element branch on use_mad.
template <int n, bool use_mad>
V make_qkx_n(int nmax, const V* x, const V* w, V* L, V* the_min, float rmin, float rdelta,
             int nstep, bool qkx3) {
  V mn = x[0], mx = x[0];
  V sum_w = w[0];
  V sum_x = mul(sum_w, x[0]);
  for (int i = 1; i < n; ++i) {
    mn = select(lt(x[i], mn), mn, x[i]);
    mx = select(gt(x[i], mx), mx, x[i]);
    sum_w = add(sum_w, w[i]);
    sum_x = add(sum_x, mul(w[i], x[i]));
  }
  mn = select(gt(mn, vzero()), mn, vzero());
  const M degenerate = qkx3 ? le(mx, mn) : eq(mx, mn);
  // The scalar code uses its current min in (x - min) and (max - min): a better candidate's min
  // applies to the candidates after it, so both are recomputed on every update.
  V range = sub(mx, mn);
  V xm[32], Laux[32];
  // Candidates use level_small() when every lane whose result counts has no NaN and
  // |iscale| * max|x - min| < 2^21 (rounding is monotonic, so then every |iscale * xm| is too).
  M nan = 0;
  for (int i = 0; i < n; ++i) nan |= unordered(x[i]);
  const M live = static_cast<M>(~degenerate);
  V xm_max = vzero();
  auto set_xm = [&](V m) {
    xm_max = vzero();
    for (int i = 0; i < n; ++i) {
      xm[i] = sub(x[i], m);
      xm_max = _mm512_max_ps(xm_max, vabs(xm[i]));
    }
  };
  set_xm(mn);
  const V lo = vzero(), hi = splat(static_cast<float>(nmax));

  const V iscale0 = div(splat(static_cast<float>(nmax)), range);
  V scale = div(splat(1.f), iscale0);
  V best = vzero();
  for (int i = 0; i < n; ++i) {
    const V l = level(mul(iscale0, xm[i]), 0, nmax);
    L[i] = l;
    V diff = sub(add(mul(scale, l), mn), x[i]);
    diff = use_mad ? vabs(diff) : mul(diff, diff);
    best = add(best, mul(w[i], diff));
  }
  V vmin = mn;
  for (int is = 0; is <= nstep; ++is) {
    const float c = rmin + rdelta * static_cast<float>(is) + static_cast<float>(nmax);
    const V iscale = div(splat(c), range);
    V sum_l = vzero(), sum_l2 = vzero(), sum_xl = vzero();
    auto candidate = [&](auto level_of) {
      for (int i = 0; i < n; ++i) {
        const V l = level_of(mul(iscale, xm[i]));
        Laux[i] = l;
        const V wl = mul(w[i], l);
        sum_l = add(sum_l, wl);
        sum_l2 = add(sum_l2, mul(wl, l));
        sum_xl = add(sum_xl, mul(wl, x[i]));
      }
    };
    const M fits = lt(mul(vabs(iscale), xm_max), splat(kLevelSmallBound)) & ~nan;
    if ((live & ~fits) == 0)
      candidate([&](V v) { return level_small(v, lo, hi); });
    else
      candidate([&](V v) { return level(v, 0, nmax); });
    const V D = sub(mul(sum_w, sum_l2), mul(sum_l, sum_l));
    const M pos = gt(D, vzero()) & ~degenerate;
    if (pos == 0) continue;
    V this_scale = div(sub(mul(sum_w, sum_xl), mul(sum_x, sum_l)), D);
    V this_min = div(sub(mul(sum_l2, sum_x), mul(sum_l, sum_xl)), D);
    const M clip = gt(this_min, vzero());
    this_min = select(clip, this_min, vzero());
    this_scale = select(clip, this_scale, div(sum_xl, sum_l2));
    V err = vzero();
    for (int i = 0; i < n; ++i) {
      V diff = sub(add(mul(this_scale, Laux[i]), this_min), x[i]);
      diff = use_mad ? vabs(diff) : mul(diff, diff);
      err = add(err, mul(w[i], diff));
    }
    const M better = pos & lt(err, best);
    if (better == 0) continue;
    for (int i = 0; i < n; ++i) L[i] = select(better, L[i], Laux[i]);
    best = select(better, best, err);
    scale = select(better, scale, this_scale);
    vmin = select(better, vmin, this_min);
    range = sub(mx, vmin);
    set_xm(vmin);
  }
  // A degenerate sub-block (max == min, or max <= min for qkx3): all-zero levels, scale 0.
  if (degenerate) {
    for (int i = 0; i < n; ++i) L[i] = select(degenerate, L[i], vzero());
    scale = select(degenerate, scale, vzero());
    vmin = select(degenerate, vmin, mn);
  }
  *the_min = neg(vmin);
  return scale;
}

// Signed value of the largest magnitude (first on ties; NaN never wins), as the scalar loop.
V signed_absmax(int n, const V* x, V* amax_out) {
  V amax = vzero(), mx = vzero();
  for (int i = 0; i < n; ++i) {
    const V ax = vabs(x[i]);
    const M g = gt(ax, amax);
    amax = select(g, amax, ax);
    mx = select(g, mx, x[i]);
  }
  *amax_out = amax;
  return mx;
}

template <int n>
V make_qx_n(int nmax, const V* x, const V* qw, V* L) {
  V amax;
  const V mx = signed_absmax(n, x, &amax);
  const M small = lt(amax, splat(ggml::kGroupMaxEps));
  const V off = splat(static_cast<float>(nmax));
  V wx[32], w[32], Lc[32];
  for (int i = 0; i < n; ++i) {
    w[i] = qw ? qw[i] : mul(x[i], x[i]);
    wx[i] = mul(w[i], x[i]);
  }
  // As in make_qkx: level_small() when no counted lane has a NaN and |iscale| * amax < 2^21.
  M nan = 0;
  for (int i = 0; i < n; ++i) nan |= unordered(x[i]);
  const M live = static_cast<M>(~small);
  const V lo = splat(static_cast<float>(-nmax)), hi = splat(static_cast<float>(nmax - 1));
  V iscale = div(splat(static_cast<float>(-nmax)), mx);
  V sumlx = vzero(), suml2 = vzero();
  for (int i = 0; i < n; ++i) {
    const V l = level(mul(iscale, x[i]), -nmax, nmax - 1);
    L[i] = add(l, off);
    sumlx = add(sumlx, mul(wx[i], l));
    suml2 = add(suml2, mul(mul(w[i], l), l));
  }
  V scale = select(ne(suml2, vzero()), vzero(), div(sumlx, suml2));
  V best = mul(scale, sumlx);
  // The 18 candidates do not depend on each other (only the kept one does), so they are summed
  // two at a time, sharing the loads, and then accepted or not in the scalar order.
  V Lc2[32];
  constexpr int kPairs[9][2] = {{-9, -8}, {-7, -6}, {-5, -4}, {-3, -2}, {-1, 1},
                                {2, 3},   {4, 5},   {6, 7},   {8, 9}};
  for (const auto& [is0, is1] : kPairs) {
    const V iscale0 = div(splat(-(static_cast<float>(nmax) + 0.1f * static_cast<float>(is0))), mx);
    const V iscale1 = div(splat(-(static_cast<float>(nmax) + 0.1f * static_cast<float>(is1))), mx);
    V sumlx0 = vzero(), suml20 = vzero(), sumlx1 = vzero(), suml21 = vzero();
    auto candidates = [&](auto level_of) {
      for (int i = 0; i < n; ++i) {
        const V l0 = level_of(mul(iscale0, x[i]));
        const V l1 = level_of(mul(iscale1, x[i]));
        Lc[i] = l0;
        Lc2[i] = l1;
        sumlx0 = add(sumlx0, mul(wx[i], l0));
        suml20 = add(suml20, mul(mul(w[i], l0), l0));
        sumlx1 = add(sumlx1, mul(wx[i], l1));
        suml21 = add(suml21, mul(mul(w[i], l1), l1));
      }
    };
    const V top = mul(_mm512_max_ps(vabs(iscale0), vabs(iscale1)), amax);
    const M fits = lt(top, splat(kLevelSmallBound)) & ~nan & ordered(iscale0) & ordered(iscale1);
    if ((live & ~fits) == 0)
      candidates([&](V v) { return level_small(v, lo, hi); });
    else
      candidates([&](V v) { return level(v, -nmax, nmax - 1); });
    auto accept = [&](V slx, V sl2, const V* Lk) {
      const M better = gt(sl2, vzero()) & gt(mul(slx, slx), mul(best, sl2)) & ~small;
      if (better == 0) return;
      for (int i = 0; i < n; ++i) L[i] = select(better, L[i], add(Lk[i], off));
      const V ns = div(slx, sl2);
      scale = select(better, scale, ns);
      best = select(better, best, mul(ns, slx));
    };
    accept(sumlx0, suml20, Lc);
    accept(sumlx1, suml21, Lc2);
  }
  if (small) {
    for (int i = 0; i < n; ++i) L[i] = select(small, L[i], vzero());
    scale = select(small, scale, vzero());
  }
  return scale;
}

template <int n>
V make_q3_n(int nmax, const V* x, V* L) {
  V amax;
  const V mx = signed_absmax(n, x, &amax);
  const M small = lt(amax, splat(ggml::kGroupMaxEps));
  V w[32], wx[32];
  for (int i = 0; i < n; ++i) {
    w[i] = mul(x[i], x[i]);
    wx[i] = mul(w[i], x[i]);
  }
  const V iscale = div(splat(static_cast<float>(-nmax)), mx);
  V sumlx = vzero(), suml2 = vzero();
  for (int i = 0; i < n; ++i) {
    const V l = level(mul(iscale, x[i]), -nmax, nmax - 1);
    L[i] = l;
    sumlx = add(sumlx, mul(wx[i], l));
    suml2 = add(suml2, mul(mul(w[i], l), l));
  }
  // Coordinate descent. A lane whose sweep changed nothing would change nothing in any later
  // sweep (same state, same operations), so running sweeps while any lane changes is the
  // scalar per-sub-block "break" exactly.
  for (int itry = 0; itry < 5; ++itry) {
    M changed = 0;
    for (int i = 0; i < n; ++i) {
      const V li = L[i];
      V slx = sub(sumlx, mul(wx[i], li));
      const M c1 = gt(slx, vzero());
      if (c1 == 0) continue;
      V sl2 = sub(suml2, mul(mul(w[i], li), li));
      const V nl = level(div(mul(x[i], sl2), slx), -nmax, nmax - 1);
      const M c2 = c1 & ne(nl, li);
      if (c2 == 0) continue;
      slx = add(slx, mul(wx[i], nl));
      sl2 = add(sl2, mul(mul(w[i], nl), nl));
      const M c3 =
          c2 & gt(sl2, vzero()) & gt(mul(mul(slx, slx), suml2), mul(mul(sumlx, sumlx), sl2));
      L[i] = select(c3, li, nl);
      sumlx = select(c3, sumlx, slx);
      suml2 = select(c3, suml2, sl2);
      changed |= c3;
    }
    if ((changed & ~small) == 0) break;
  }
  const V off = splat(static_cast<float>(nmax));
  for (int i = 0; i < n; ++i) L[i] = select(small, add(L[i], off), vzero());
  return select(small, div(sumlx, suml2), vzero());
}

}  // namespace

V make_qkx(int n, int nmax, const V* x, const V* w, V* L, V* the_min, float rmin, float rdelta,
           int nstep, bool use_mad, bool qkx3) {
  if (n == 32 && !use_mad)
    return make_qkx_n<32, false>(nmax, x, w, L, the_min, rmin, rdelta, nstep, qkx3);
  if (n == 16 && use_mad)
    return make_qkx_n<16, true>(nmax, x, w, L, the_min, rmin, rdelta, nstep, qkx3);
  if (n == 16 && !use_mad)
    return make_qkx_n<16, false>(nmax, x, w, L, the_min, rmin, rdelta, nstep, qkx3);
  return use_mad ? make_qkx_n<32, true>(nmax, x, w, L, the_min, rmin, rdelta, nstep, qkx3)
                 : make_qkx_n<32, false>(nmax, x, w, L, the_min, rmin, rdelta, nstep, qkx3);
}

V make_qx(int n, int nmax, const V* x, const V* qw, V* L) {
  return n == 16 ? make_qx_n<16>(nmax, x, qw, L) : make_qx_n<32>(nmax, x, qw, L);
}

V make_q3(int n, int nmax, const V* x, V* L) {
  return n == 16 ? make_q3_n<16>(nmax, x, L) : make_q3_n<32>(nmax, x, L);
}

}  // namespace insitu::fastq::avx512
