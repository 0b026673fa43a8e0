#pragma once
// Fast, counter-based random numbers for the projector's noise: every pixel's
// draw is a pure function of (stream key, pixel index), so rows (and pixels)
// can be computed in any order or in parallel and the same key gives the same
// numbers. Built for speed: a frame needs one normal deviate per pixel.
//
// Rules
//   * pixel_bits(key, i): 32 bits, murmur3's fmix32 (a bijection) of a Weyl
//     sequence in i offset by the key. Not cryptographic; uniform enough for
//     noise (every bit flips with probability ~1/2 when i or key changes).
//   * Normal deviates by equal-probability bins: the top kNormalBits of the
//     32 bits pick one of 2^kNormalBits bins of the standard normal (each of
//     probability 2^-kNormalBits), the rest a point in it. The two outermost
//     bins are split again by the next kNormalTailBits bits into sub-bins of
//     equal probability. Every bin and sub-bin interpolates the quantile
//     function linearly between the exact quantiles at its edges (its density
//     is constant there, its probability exact), except the two outermost
//     sub-bins (probability 2^-21 each): those are the exact tails beyond
//     +-tail_start() (~4.90), drawn by Marsaglia's tail method with more bits
//     from an Rng (extreme(bits) says when). The mean is 0 and the variance 1
//     within ~1e-4 (a unit test sums them over the table).
//   * Rng: splitmix64, for the rare slow paths (tails, Poisson below the
//     Gaussian threshold); seeded from (key, pixel index).
//   * Pure functions and immutable tables: any thread.
//
// Example:
//   const NormalTable& n = NormalTable::get();
//   std::uint32_t bits = pixel_bits(row_key, u);
//   double g = n.is_tail(bits) ? n.tail(bits, row_key, u) : n.interior(bits);
#include <array>
#include <cstdint>

namespace pandafly::sim::physics {

inline constexpr int kNormalBits = 11;
inline constexpr std::uint32_t kNormalBins = 1u << kNormalBits;
inline constexpr int kNormalFracBits = 32 - kNormalBits;  // 21
inline constexpr int kNormalTailBits = 10;                // sub-bins per tail bin
inline constexpr int kNormalTailFracBits = 32 - kNormalBits - kNormalTailBits;  // 11
inline constexpr std::uint32_t kNormalEntries = kNormalBins + (2u << kNormalTailBits);

[[nodiscard]] constexpr std::uint32_t pixel_bits(std::uint64_t key, std::uint32_t index) {
  std::uint32_t x = index * 0x9E3779B9u + static_cast<std::uint32_t>(key);
  x ^= static_cast<std::uint32_t>(key >> 32);
  x ^= x >> 16;
  x *= 0x85EBCA6Bu;
  x ^= x >> 13;
  x *= 0xC2B2AE35u;
  x ^= x >> 16;
  return x;
}

/// splitmix64: 64 random bits per call; uniform() in (0, 1).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// (k + 0.5) / 2^53 for 53 random bits k: never 0 or 1.
  double uniform() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }

 private:
  std::uint64_t state_;
};

class NormalTable {
 public:
  /// The one table (built on first use, thread-safe).
  [[nodiscard]] static const NormalTable& get();

  /// The table entry of `bits`: its bin, or for the outermost bins
  /// kNormalBins + the sub-bin (lower tail first). Branch-free.
  [[nodiscard]] static constexpr std::uint32_t entry(std::uint32_t bits) {
    // Masks, not branches or ternaries: the projector's row loop vectorises.
    const std::uint32_t b = bits >> kNormalFracBits;
    const std::uint32_t sub = (bits >> kNormalTailFracBits) & ((1u << kNormalTailBits) - 1u);
    const auto upper = static_cast<std::uint32_t>(b == kNormalBins - 1);
    const std::uint32_t tail = 0u - (static_cast<std::uint32_t>(b == 0) | upper);  // all ones
    return b + (tail & (kNormalBins - b + (upper << kNormalTailBits) + sub));
  }
  /// The bits that place a deviate inside its entry (21 or 11 of them).
  [[nodiscard]] static constexpr std::uint32_t fraction(std::uint32_t bits) {
    const std::uint32_t b = bits >> kNormalFracBits;
    const std::uint32_t tail = 0u - (static_cast<std::uint32_t>(b == 0) |
                                     static_cast<std::uint32_t>(b == kNormalBins - 1));
    constexpr std::uint32_t kWide = (1u << kNormalFracBits) - 1u;
    constexpr std::uint32_t kNarrow = (1u << kNormalTailFracBits) - 1u;
    return bits & (kWide ^ (tail & (kWide ^ kNarrow)));
  }
  /// True for the two outermost sub-bins (the exact tails; see tail()).
  [[nodiscard]] static constexpr bool extreme(std::uint32_t bits) {
    const std::uint32_t e = entry(bits);
    return e == kNormalBins || e == kNormalEntries - 1;
  }
  /// The deviate of a non-extreme entry (meaningless for an extreme one).
  [[nodiscard]] float interior(std::uint32_t bits) const {
    const std::uint32_t e = entry(bits);
    return knot_[e] + static_cast<float>(fraction(bits)) * step_[e];
  }
  /// The deviate of an extreme entry: beyond -tail_start() or +tail_start().
  /// Draws from Rng(mix of key and index).
  [[nodiscard]] double tail(std::uint32_t bits, std::uint64_t key, std::uint32_t index) const;
  /// Any bits: interior() or tail().
  [[nodiscard]] double deviate(std::uint32_t bits, std::uint64_t key, std::uint32_t index) const {
    return extreme(bits) ? tail(bits, key, index) : static_cast<double>(interior(bits));
  }

  /// Where the exact tails start: the normal quantile at 1 - 2^-21 (~4.90).
  [[nodiscard]] double tail_start() const { return tail_start_; }
  /// knots()[e] + fraction * steps()[e] is entry e's deviate.
  [[nodiscard]] const float* knots() const { return knot_.data(); }
  [[nodiscard]] const float* steps() const { return step_.data(); }
  /// The quantiles at entry e's edges (tests: the exact moments of the table).
  [[nodiscard]] double lower_edge(std::uint32_t e) const { return lower_[e]; }
  [[nodiscard]] double upper_edge(std::uint32_t e) const { return upper_[e]; }
  /// The probability of entry e.
  [[nodiscard]] static double probability(std::uint32_t e);

 private:
  NormalTable();
  void set(std::uint32_t e, double p0, double p1, int frac_bits);
  std::array<float, kNormalEntries> knot_{};  // quantile at the entry's lower edge
  std::array<float, kNormalEntries> step_{};  // (upper - lower edge) / 2^fraction bits
  std::array<double, kNormalEntries> lower_{};
  std::array<double, kNormalEntries> upper_{};
  double tail_start_ = 0;
};

/// The standard normal quantile function (inverse CDF) for p in (0, 1),
/// accurate to ~1e-15 (Acklam's approximation and one Halley step on erfc).
[[nodiscard]] double normal_quantile(double p);

/// A Poisson deviate of mean `mean` (0 <= mean <= ~700) by inversion
/// (Knuth's product of uniforms); mean + 1 uniforms on average.
[[nodiscard]] std::int64_t poisson(double mean, Rng& rng);

}  // namespace pandafly::sim::physics
