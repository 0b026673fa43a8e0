#pragma once
// A 3D phantom for the simulated camera: a sum of ellipsoids, each with a
// constant linear attenuation coefficient, in the sample frame of the rotation
// stage (z is the stage's rotation axis, vertical; x and y are horizontal).
//
// Rules
//   * An ellipsoid is its centre (mm), its semi-axes a, b, c (mm, > 0) along
//     its own x', y' and z axes, a rotation phi_deg of x' away from the sample's
//     x axis about z (counter-clockwise seen from +z), and mu (1/mm). Only
//     rotations about z are allowed, so every horizontal cut is an ellipse.
//   * Attenuations add where ellipsoids overlap; a negative mu carves a cavity
//     out of what lies around it.
//   * Pure values: no I/O, no randomness.
//
// Example:
//   Phantom p = Phantom::shepp_logan_3d(20.0);        // fits a 20 mm wide field
//   p.add({.x = 3, .a = 1, .b = 1, .c = 1, .mu = 0.05});  // a 2 mm bead, 3 mm off axis
//   double path = chord_length(p.ellipsoids()[0], {0, -50, 0}, {0, 1, 0});
#include <span>
#include <vector>

namespace pandafly::sim::physics {

struct Vec3 {
  double x = 0;
  double y = 0;
  double z = 0;
};

struct Ellipsoid {
  double x = 0;  ///< centre, mm (sample frame)
  double y = 0;
  double z = 0;
  double a = 1;        ///< semi-axis along x' (mm)
  double b = 1;        ///< semi-axis along y' (mm)
  double c = 1;        ///< semi-axis along z (mm)
  double phi_deg = 0;  ///< rotation of x' from x about z, degrees
  double mu = 0;       ///< linear attenuation coefficient, 1/mm
  friend bool operator==(const Ellipsoid&, const Ellipsoid&) = default;
};

/// Length (mm) of the part of the line `point + t * direction` (t real, any
/// non-zero direction) that lies inside `e`; 0 when the line misses it.
[[nodiscard]] double chord_length(const Ellipsoid& e, const Vec3& point, const Vec3& direction);

/// Volume of `e` (mm^3): 4/3 pi a b c.
[[nodiscard]] double volume(const Ellipsoid& e);

class Phantom {
 public:
  Phantom() = default;

  /// A head-like phantom in the spirit of Shepp and Logan's (an outer shell, a
  /// darker interior, two tilted ventricles, a few small bright features and a
  /// vertical rod), scaled so that it fits inside a cylinder of diameter
  /// fov_mm (> 0) about the z axis and of height 0.9 * fov_mm. The attenuation
  /// scales as 1/fov_mm so that the thickest path has a line integral near 1
  /// (about 37 % transmission) at any size.
  [[nodiscard]] static Phantom shepp_logan_3d(double fov_mm);

  /// Appends `e`. Throws std::invalid_argument unless every field is finite
  /// and the semi-axes are positive.
  void add(const Ellipsoid& e);

  [[nodiscard]] std::span<const Ellipsoid> ellipsoids() const { return ellipsoids_; }
  [[nodiscard]] bool empty() const { return ellipsoids_.empty(); }

  /// Sum of mu * volume (mm^2): the integral of any projection over the
  /// detector plane, whatever the angle.
  [[nodiscard]] double integrated_attenuation() const;

  /// mu (1/mm) at `p` (sample frame): the sum over the ellipsoids containing
  /// it (surface included). The truth a reconstruction is compared with.
  [[nodiscard]] double attenuation_at(const Vec3& p) const;

 private:
  std::vector<Ellipsoid> ellipsoids_;
};

}  // namespace pandafly::sim::physics
