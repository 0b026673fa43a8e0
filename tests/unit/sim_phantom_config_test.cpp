// The configurable phantom of the beamline simulator: [phantom] in the
// beamline TOML (ellipsoids, rotation axis offset, pixel size), its errors
// (file:line:col and the key), and what the camera renders from it: an
// off-centre ellipsoid at 0 and 180 degrees mirrors about the configured axis
// column (parallel beam: P(u, theta + 180) = P(2 u0 - u, theta)).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "sim/ca/config.hpp"
#include "sim/camera/frame_source.hpp"

using namespace pandafly::sim;
using namespace pandafly::sim::ca;

namespace {

std::string error_of(std::string_view text) {
  try {
    (void)parse_config(text, "beam.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

std::vector<float> frame_of(camera::FrameSource& src, camera::FrameKind kind, double angle) {
  const auto bytes = src.render(kind, angle, 1);
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}

// The line integrals a scan would see: -log((projection - dark) / (flat - dark))
// (the beam profile, centred on the detector rather than the axis, drops out).
std::vector<double> integrals_of(camera::FrameSource& src, double angle) {
  const auto proj = frame_of(src, camera::FrameKind::projection, angle);
  const auto flat = frame_of(src, camera::FrameKind::flat, 0);
  const auto dark = frame_of(src, camera::FrameKind::dark, 0);
  std::vector<double> p(proj.size());
  for (std::size_t i = 0; i < p.size(); ++i)
    p[i] = -std::log((static_cast<double>(proj[i]) - dark[i]) / (flat[i] - dark[i]));
  return p;
}

camera::FrameSourceOptions options_of(const PhantomConfig& p) {
  camera::FrameSourceOptions o;
  o.noise = false;
  o.pixel_mm = p.pixel_mm;
  o.phantom = p.phantom();
  o.axis_offset_px = p.axis_offset_px;
  return o;
}

constexpr std::string_view kOffCentre = R"(
[phantom]
pixel_mm = 0.1
axis_offset_px = 2.5
[[phantom.ellipsoid]]
x = 1.2
y = 0.4
a = 0.6
b = 0.3
c = 0.5
phi_deg = 25.0
mu = 0.5
)";

}  // namespace

TEST_CASE("phantom config: absent is the built-in phantom, centred; keys parse") {
  const BeamlineConfig builtin = default_config();
  CHECK(builtin.phantom.ellipsoids.empty());
  CHECK_FALSE(builtin.phantom.phantom().has_value());
  CHECK(builtin.phantom.axis_offset_px == 0.0);
  CHECK(builtin.phantom.pixel_mm == 0.0065);
  CHECK(parse_config("", "empty.toml").phantom == builtin.phantom);

  const BeamlineConfig c = parse_config(kOffCentre, "beam.toml");
  CHECK(c.phantom.pixel_mm == 0.1);
  CHECK(c.phantom.axis_offset_px == 2.5);
  REQUIRE(c.phantom.ellipsoids.size() == 1);
  const physics::Ellipsoid& e = c.phantom.ellipsoids[0];
  CHECK(e.x == 1.2);
  CHECK(e.y == 0.4);
  CHECK(e.z == 0.0);  // default
  CHECK(e.a == 0.6);
  CHECK(e.b == 0.3);
  CHECK(e.c == 0.5);
  CHECK(e.phi_deg == 25.0);
  CHECK(e.mu == 0.5);
  CHECK(c.phantom.phantom()->ellipsoids().size() == 1);
  // Integer values are numbers too; several ellipsoids keep their order.
  const BeamlineConfig two = parse_config(
      "[[phantom.ellipsoid]]\na = 1\nb = 1\nc = 1\nmu = 1\n"
      "[[phantom.ellipsoid]]\nx = -2\na = 1\nb = 2\nc = 3\nmu = -0.5\n",
      "t");
  REQUIRE(two.phantom.ellipsoids.size() == 2);
  CHECK(two.phantom.ellipsoids[1].x == -2.0);
  CHECK(two.phantom.ellipsoids[1].mu == -0.5);
}

TEST_CASE("phantom config: an off-centre ellipsoid at 0 and 180 degrees mirrors about the axis") {
  const PhantomConfig p = parse_config(kOffCentre, "beam.toml").phantom;
  // 64 columns: the axis at (64 - 1) / 2 + 2.5 = 34, so column u mirrors to 68 - u.
  camera::FrameSource src({64, 16, pandafly::capture::DataType::float32}, options_of(p));
  CHECK(src.projector().axis_u0() == 34.0);
  const auto at0 = integrals_of(src, 0);
  const auto at180 = integrals_of(src, 180);
  std::size_t shadowed = 0;
  double asymmetry_about_axis = 0;
  double asymmetry_about_centre = 0;
  for (std::size_t v = 0; v < 16; ++v) {
    for (std::size_t u = 5; u < 64; ++u) {  // 68 - u < 64
      const double a = at0[v * 64 + u];
      const double b = at180[v * 64 + (68 - u)];
      REQUIRE(a == doctest::Approx(b).epsilon(1e-4).scale(1));
      if (a > 0.05) ++shadowed;
      asymmetry_about_axis += std::abs(a - at0[v * 64 + (68 - u)]);
    }
    for (std::size_t u = 0; u < 64; ++u)  // about the detector centre: 63 - u
      asymmetry_about_centre += std::abs(at0[v * 64 + u] - at180[v * 64 + (63 - u)]);
  }
  CHECK(shadowed > 20);               // the ellipsoid is in the field
  CHECK(asymmetry_about_axis > 1);    // off-centre: 0 degrees alone is not symmetric
  CHECK(asymmetry_about_centre > 1);  // the offset matters
  // Its shadow (the largest integral) at 0 degrees lies right of the axis: x = 1.2 mm = 12 pixels.
  const auto row = at0.begin() + 8 * 64;
  const auto darkest = std::max_element(row, row + 64) - row;
  CHECK(std::abs(static_cast<double>(darkest) - (34 + 12)) <= 2);
}

TEST_CASE("phantom config: errors name the file, line, column and key") {
  CHECK(error_of("[phantom]\npixel_mm = 0.0\n") ==
        "beam.toml:2:12: phantom.pixel_mm: must be > 0, got 0");
  CHECK(error_of("[phantom]\naxis_offset = 1.0\n") ==
        "beam.toml:2:1: phantom.axis_offset: unknown key");
  CHECK(error_of("[phantom]\naxis_offset_px = \"left\"\n") ==
        "beam.toml:2:18: phantom.axis_offset_px: must be a number");
  CHECK(error_of("[[phantom.ellipsoid]]\na = 1\nb = 1\nc = 1\nmu = 1\nradius = 2\n") ==
        "beam.toml:6:1: phantom.ellipsoid[0].radius: unknown key");
  CHECK(error_of("[[phantom.ellipsoid]]\na = 1\nb = 1\nc = 1\nmu = 1\n"
                 "[[phantom.ellipsoid]]\na = 1\nb = -1\nc = 1\nmu = 1\n") ==
        "beam.toml:8:5: phantom.ellipsoid[1].b: must be > 0, got -1");
  CHECK(error_of("[[phantom.ellipsoid]]\na = 1\nb = 1\nc = 1\n")
            .starts_with("beam.toml:1:1: phantom.ellipsoid[0]: missing key \"mu\""));
  CHECK(error_of("[[phantom.ellipsoid]]\na = 1\nb = 1\nc = 1\nmu = inf\n") ==
        "beam.toml:5:6: phantom.ellipsoid[0].mu: must be a finite number");
  CHECK(error_of("phantom = 3\n") == "beam.toml:1:11: phantom: must be a table ([phantom])");
  CHECK(error_of("[phantom]\nellipsoid = 3\n")
            .starts_with("beam.toml:2:13: phantom.ellipsoid: must be an array of tables"));
}

TEST_CASE("phantom config: a non-finite axis offset is refused by the camera") {
  camera::FrameSourceOptions o;
  o.axis_offset_px = std::nan("");
  CHECK_THROWS_AS(camera::FrameSource({8, 8, pandafly::capture::DataType::uint16}, o),
                  std::invalid_argument);
}
