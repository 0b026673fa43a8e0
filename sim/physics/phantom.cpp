#include "sim/physics/phantom.hpp"

#include <array>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace pandafly::sim::physics {

namespace {

double dot(const Vec3& p, const Vec3& q) {
  return p.x * q.x + p.y * q.y + p.z * q.z;
}

// A vector in the frame where `e` is the unit sphere: undo the rotation about
// z, then divide by the semi-axes. Used for both points (after subtracting the
// centre) and directions.
Vec3 to_unit_sphere(const Ellipsoid& e, const Vec3& v) {
  const double phi = e.phi_deg * std::numbers::pi / 180.0;
  const double cs = std::cos(phi);
  const double sn = std::sin(phi);
  return {(cs * v.x + sn * v.y) / e.a, (-sn * v.x + cs * v.y) / e.b, v.z / e.c};
}

// One row of the default phantom, lengths in units of the field radius and
// the attenuation in units of 1 / field radius (see shepp_logan_3d).
struct Feature {
  double x, y, z, a, b, c, phi_deg, k;
};

// Our own numbers, in the spirit of the classic head phantom: the shell and
// the interior nearly cancel, so that the inner features stand out.
constexpr std::array<Feature, 11> kHead{{
    {0.00, 0.00, 0.00, 0.70, 0.90, 0.85, 0, 1.00},      // skull
    {0.00, -0.02, 0.00, 0.66, 0.86, 0.80, 0, -0.80},    // brain (darker interior)
    {0.22, 0.00, -0.10, 0.11, 0.30, 0.22, -18, -0.20},  // right ventricle
    {-0.22, 0.00, -0.10, 0.15, 0.40, 0.25, 18, -0.20},  // left ventricle
    {0.00, 0.35, 0.10, 0.21, 0.25, 0.30, 0, 0.10},      // large upper blob
    {0.00, 0.10, 0.05, 0.05, 0.05, 0.05, 0, 0.15},      // two small spheres
    {0.00, -0.10, 0.05, 0.05, 0.05, 0.05, 0, 0.15},
    {-0.08, -0.60, 0.00, 0.045, 0.025, 0.05, 0, 0.10},  // three small beads
    {0.00, -0.60, 0.00, 0.025, 0.025, 0.03, 0, 0.10},
    {0.06, -0.60, 0.00, 0.025, 0.045, 0.04, 0, 0.10},
    {0.05, 0.55, -0.30, 0.06, 0.06, 0.30, 0, 0.12},  // vertical rod
}};

// Makes the thickest path through kHead a line integral of about 1.
constexpr double kMuScale = 1.7;

}  // namespace

double chord_length(const Ellipsoid& e, const Vec3& point, const Vec3& direction) {
  // In the unit-sphere frame the line is q0 + t w. |q0 + t w|^2 = 1 has the
  // roots t = (-(q0.w) +- sqrt(D)) / |w|^2 with D = (q0.w)^2 - |w|^2 (|q0|^2 - 1),
  // so the line spends dt = 2 sqrt(D) / |w|^2 inside; the same parameter range
  // in the sample frame has length dt * |direction|.
  const Vec3 q0 = to_unit_sphere(e, {point.x - e.x, point.y - e.y, point.z - e.z});
  const Vec3 w = to_unit_sphere(e, direction);
  const double ww = dot(w, w);
  if (ww == 0) return 0;
  const double qw = dot(q0, w);
  const double disc = qw * qw - ww * (dot(q0, q0) - 1.0);
  if (disc <= 0) return 0;
  return 2.0 * std::sqrt(disc) / ww * std::sqrt(dot(direction, direction));
}

double volume(const Ellipsoid& e) {
  return 4.0 / 3.0 * std::numbers::pi * e.a * e.b * e.c;
}

Phantom Phantom::shepp_logan_3d(double fov_mm) {
  if (!(fov_mm > 0) || !std::isfinite(fov_mm)) {
    throw std::invalid_argument("shepp_logan_3d: the field of view must be positive");
  }
  const double r = fov_mm / 2.0;
  Phantom p;
  for (const Feature& f : kHead) {
    p.add({.x = f.x * r,
           .y = f.y * r,
           .z = f.z * r,
           .a = f.a * r,
           .b = f.b * r,
           .c = f.c * r,
           .phi_deg = f.phi_deg,
           .mu = f.k * kMuScale / r});
  }
  return p;
}

void Phantom::add(const Ellipsoid& e) {
  for (double v : {e.x, e.y, e.z, e.a, e.b, e.c, e.phi_deg, e.mu}) {
    if (!std::isfinite(v)) throw std::invalid_argument("Phantom::add: non-finite ellipsoid field");
  }
  if (!(e.a > 0 && e.b > 0 && e.c > 0)) {
    throw std::invalid_argument("Phantom::add: semi-axes must be positive");
  }
  ellipsoids_.push_back(e);
}

double Phantom::integrated_attenuation() const {
  double sum = 0;
  for (const Ellipsoid& e : ellipsoids_) sum += e.mu * volume(e);
  return sum;
}

double Phantom::attenuation_at(const Vec3& p) const {
  double mu = 0;
  for (const auto& e : ellipsoids_) {
    const double phi = e.phi_deg * std::numbers::pi / 180.0;
    const double dx = p.x - e.x, dy = p.y - e.y, dz = p.z - e.z;
    const double xp = dx * std::cos(phi) + dy * std::sin(phi);  // into the ellipsoid's x', y'
    const double yp = -dx * std::sin(phi) + dy * std::cos(phi);
    const double r = (xp / e.a) * (xp / e.a) + (yp / e.b) * (yp / e.b) + (dz / e.c) * (dz / e.c);
    if (r <= 1) mu += e.mu;
  }
  return mu;
}

}  // namespace pandafly::sim::physics
