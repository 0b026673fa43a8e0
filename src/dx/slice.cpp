// Slice helpers: angle weights, the ramp filter, the centre of rotation
// (contracts in include/pandafly/dx/slice.hpp).
#include "pandafly/dx/slice.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace pandafly::dx {

SliceFilter parse_slice_filter(std::string_view name) {
  if (name == "ramp") return SliceFilter::ramp;
  if (name == "shepp-logan") return SliceFilter::shepp_logan;
  throw std::invalid_argument(fmt::format("unknown filter '{}' (ramp, shepp-logan)", name));
}

SliceMethod parse_slice_method(std::string_view name) {
  if (name == "gridrec") return SliceMethod::gridrec;
  if (name == "direct") return SliceMethod::direct;
  throw std::invalid_argument(fmt::format("unknown method '{}' (gridrec, direct)", name));
}

std::vector<double> angle_weights(std::span<const double> theta_deg) {
  const std::size_t n = theta_deg.size();
  if (n == 0) throw std::invalid_argument("angle_weights: no angles");
  std::vector<double> phi(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(theta_deg[i]))
      throw std::invalid_argument(fmt::format("angle {} is not a number: {}", i, theta_deg[i]));
    phi[i] = std::fmod(std::fmod(theta_deg[i], 180.0) + 180.0, 180.0);
  }
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return phi[a] < phi[b]; });
  std::vector<double> w(n);
  if (n == 1) {
    w[0] = std::numbers::pi;
    return w;
  }
  for (std::size_t k = 0; k < n; ++k) {
    const double prev = k == 0 ? phi[order[n - 1]] - 180.0 : phi[order[k - 1]];
    const double next = k + 1 == n ? phi[order[0]] + 180.0 : phi[order[k + 1]];
    w[order[k]] = (next - prev) / 2.0 * std::numbers::pi / 180.0;
  }
  return w;  // the half-gaps telescope: Σ = 180° = π exactly
}

std::size_t padded_length(std::size_t width) {
  std::size_t p = 32;
  while (p < width) p *= 2;
  return 2 * p;
}

std::vector<double> filter_response(std::size_t padded, SliceFilter filter) {
  // H(k) = Σ_n h(n) cos(2πkn/G) over the circular kernel: h(0) = 1/4,
  // h(±n) = −1/(πn)² for odd n up to G/2.
  const std::size_t half = padded / 2;
  std::vector<double> h(half + 1, 0.0);
  h[0] = 0.25;
  for (std::size_t n = 1; n <= half; n += 2) {
    const double pn = std::numbers::pi * static_cast<double>(n);
    h[n] = -1.0 / (pn * pn);
  }
  std::vector<double> H(half + 1);
  const double g = static_cast<double>(padded);
  for (std::size_t k = 0; k <= half; ++k) {
    double sum = h[0];
    for (std::size_t n = 1; n <= half; n += 2) {
      const double c = std::cos(2.0 * std::numbers::pi * static_cast<double>(k * n % padded) / g);
      sum += (n == half ? 1.0 : 2.0) * h[n] * c;  // ±n, except G/2 which is its own mirror
    }
    H[k] = sum;
    if (filter == SliceFilter::shepp_logan && k > 0) {
      const double x = std::numbers::pi * static_cast<double>(k) / g;
      H[k] *= std::sin(x) / x;
    }
  }
  return H;
}

namespace {

// Pearson correlation of a[x] and b[x + s] over their overlap.
double correlation_at(std::span<const float> a, std::span<const float> b, long s) {
  const long w = static_cast<long>(a.size());
  const long lo = std::max(0L, -s), hi = std::min(w, w - s);
  double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  for (long x = lo; x < hi; ++x) {
    const double u = a[static_cast<std::size_t>(x)], v = b[static_cast<std::size_t>(x + s)];
    sa += u, sb += v, saa += u * u, sbb += v * v, sab += u * v;
  }
  const double n = static_cast<double>(hi - lo);
  const double cov = sab - sa * sb / n, va = saa - sa * sa / n, vb = sbb - sb * sb / n;
  return va > 0 && vb > 0 ? cov / std::sqrt(va * vb) : 0.0;
}

// The pair (i, j) whose angles are nearest 180° apart (mod 360°).
std::pair<std::size_t, std::size_t> opposite_pair(std::span<const double> theta, double tolerance) {
  double best = tolerance;
  std::pair<std::size_t, std::size_t> pair{0, 0};
  bool found = false;
  for (std::size_t i = 0; i < theta.size(); ++i)
    for (std::size_t j = i + 1; j < theta.size(); ++j) {
      const double d = std::fmod(std::fabs(theta[j] - theta[i]), 360.0);
      if (const double miss = std::fabs(d - 180.0); miss <= best) {
        best = miss, pair = {i, j}, found = true;
      }
    }
  if (!found)
    throw std::invalid_argument(fmt::format(
        "no two projections are 180° apart (within {}°): cannot estimate the centre", tolerance));
  return pair;
}

}  // namespace

CentreEstimate estimate_centre(std::span<const float> sinogram, std::size_t width,
                               std::span<const double> theta_deg, double tolerance_deg) {
  if (width < 4 || sinogram.size() != theta_deg.size() * width)
    throw std::invalid_argument(fmt::format("estimate_centre: {} values for {} angles × {} columns",
                                            sinogram.size(), theta_deg.size(), width));
  const auto [i, j] = opposite_pair(theta_deg, tolerance_deg);
  const auto a = sinogram.subspan(i * width, width);
  std::vector<float> b(width);
  std::reverse_copy(sinogram.begin() + static_cast<long>(j * width),
                    sinogram.begin() + static_cast<long>((j + 1) * width), b.begin());
  // b(x) = p_j(W − 1 − x) = p_i(x + s) with s = 2·centre − (W − 1).
  const long reach = static_cast<long>(width) * 3 / 8;  // overlap ≥ width / 4
  std::vector<double> c(static_cast<std::size_t>(2 * reach + 1));
  long best = 0;
  for (long s = -reach; s <= reach; ++s) {
    c[static_cast<std::size_t>(s + reach)] = correlation_at(b, a, s);
    if (c[static_cast<std::size_t>(s + reach)] > c[static_cast<std::size_t>(best + reach)])
      best = s;
  }
  double shift = static_cast<double>(best);
  if (best > -reach && best < reach) {
    const double l = c[static_cast<std::size_t>(best + reach - 1)];
    const double m = c[static_cast<std::size_t>(best + reach)];
    const double r = c[static_cast<std::size_t>(best + reach + 1)];
    if (const double curve = l - 2 * m + r; curve < 0) shift += 0.5 * (l - r) / curve;
  }
  return {.centre = (shift + static_cast<double>(width - 1)) / 2.0,
          .first = i,
          .second = j,
          .correlation = c[static_cast<std::size_t>(best + reach)]};
}

}  // namespace pandafly::dx
