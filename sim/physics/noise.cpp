#include "sim/physics/noise.hpp"

#include <cmath>
#include <numbers>

namespace pandafly::sim::physics {

namespace {

// Acklam's rational approximation of the normal quantile (relative error
// < 1.2e-9), as published with its coefficients.
double acklam(double p) {
  constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                          1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                          6.680131188771972e+01, -1.328068155288572e+01};
  constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                          -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                          3.754408661907416e+00};
  constexpr double low = 0.02425;
  if (p < low) {
    const double q = std::sqrt(-2 * std::log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) return -acklam(1 - p);
  const double q = p - 0.5;
  const double r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

std::uint64_t mix(std::uint64_t x) {
  return Rng(x).next();
}

// Poisson by inversion for a small mean (exp(-mean) far from underflow).
std::int64_t poisson_small(double mean, Rng& rng) {
  const double limit = std::exp(-mean);
  std::int64_t k = 0;
  for (double p = rng.uniform(); p > limit; p *= rng.uniform()) ++k;
  return k;
}

}  // namespace

double normal_quantile(double p) {
  const double x = acklam(p);
  // One Halley step on Phi(x) - p, with Phi from erfc (full precision).
  const double e = 0.5 * std::erfc(-x / std::numbers::sqrt2) - p;
  const double u = e * std::sqrt(2 * std::numbers::pi) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

double NormalTable::probability(std::uint32_t e) {
  return e < kNormalBins ? std::ldexp(1.0, -kNormalBits)
                         : std::ldexp(1.0, -(kNormalBits + kNormalTailBits));
}

void NormalTable::set(std::uint32_t e, double p0, double p1, int frac_bits) {
  // The extreme sub-bins have an infinite edge; their knot and step are unused.
  lower_[e] = p0 > 0 ? normal_quantile(p0) : -HUGE_VAL;
  upper_[e] = p1 < 1 ? normal_quantile(p1) : HUGE_VAL;
  if (std::isfinite(lower_[e]) && std::isfinite(upper_[e])) {
    knot_[e] = static_cast<float>(lower_[e]);
    step_[e] = static_cast<float>(std::ldexp(upper_[e] - lower_[e], -frac_bits));
  }
}

NormalTable::NormalTable() {
  const double bin = std::ldexp(1.0, -kNormalBits);
  const double sub = std::ldexp(1.0, -(kNormalBits + kNormalTailBits));
  for (std::uint32_t b = 1; b + 1 < kNormalBins; ++b) {
    set(b, b * bin, (b + 1) * bin, kNormalFracBits);
  }
  constexpr std::uint32_t kSubs = 1u << kNormalTailBits;
  for (std::uint32_t k = 0; k < kSubs; ++k) {
    set(kNormalBins + k, k * sub, (k + 1) * sub, kNormalTailFracBits);
    set(kNormalBins + kSubs + k, 1 - bin + k * sub, 1 - bin + (k + 1) * sub, kNormalTailFracBits);
  }
  tail_start_ = -upper_[kNormalBins];  // -Q(2^-21) = Q(1 - 2^-21)
}

const NormalTable& NormalTable::get() {
  static const NormalTable table;
  return table;
}

double NormalTable::tail(std::uint32_t bits, std::uint64_t key, std::uint32_t index) const {
  // Marsaglia (1964): for the normal beyond a, x = -ln(U1) / a and
  // y = -ln(U2) accepted when 2 y > x^2 give a + x.
  Rng rng(mix(key ^ (0xA24BAED4963EE407ull * (index + 1ull))));
  const double a = tail_start_;
  double x = 0;
  double y = 0;
  do {
    x = -std::log(rng.uniform()) / a;
    y = -std::log(rng.uniform());
  } while (2 * y <= x * x);
  return entry(bits) == kNormalBins ? -(a + x) : a + x;
}

std::int64_t poisson(double mean, Rng& rng) {
  if (!(mean > 0)) return 0;
  std::int64_t k = 0;
  // A sum of Poisson deviates is Poisson with the summed mean: chunks keep
  // exp(-mean) well away from underflow.
  constexpr double kChunk = 500;
  for (; mean > kChunk; mean -= kChunk) k += poisson_small(kChunk, rng);
  return k + poisson_small(mean, rng);
}

}  // namespace pandafly::sim::physics
