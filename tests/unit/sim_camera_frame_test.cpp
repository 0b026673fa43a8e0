// The camera simulator's frames and triggers without sockets: pixel physics
// (projection vs flat, Beer-Lambert inverted back to the line integrals, a
// filtered back-projection of a simulated scan that shows the phantom), every
// pixel type, the NDAttributes, the acquisition sequence (darks, flats,
// projections; angles; internal schedule) and an external trigger from the
// simulated PandA's TTLOUT.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numbers>
#include <stdexcept>
#include <vector>

#include <doctest/doctest.h>

#include "sim/camera/acquisition.hpp"
#include "sim/camera/frame_source.hpp"
#include "sim_fpga_test_util.hpp"

namespace pandafly::sim::camera {
namespace {

using capture::DataType;

template <typename T>
std::vector<T> pixels_of(std::span<const std::byte> b) {
  std::vector<T> v(b.size() / sizeof(T));
  std::memcpy(v.data(), b.data(), b.size());
  return v;
}

FrameSourceOptions quiet() {
  FrameSourceOptions o;
  o.noise = false;
  return o;
}

}  // namespace

TEST_CASE("camera frames: -log((proj - dark) / (flat - dark)) is the line integral (noise off)") {
  const FrameFormat f{96, 64, DataType::float32};
  FrameSource src(f, quiet());
  const auto dark = pixels_of<float>(src.render(FrameKind::dark, 0, 1));
  const auto flat = pixels_of<float>(src.render(FrameKind::flat, 0, 2));
  const auto proj = pixels_of<float>(src.render(FrameKind::projection, 37.5, 3));
  std::vector<float> p(f.pixels());
  src.projector().line_integrals(src.phantom(), 37.5, p);
  std::size_t inside = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double got = -std::log((proj[i] - dark[i]) / (flat[i] - dark[i]));
    REQUIRE(got == doctest::Approx(p[i]).epsilon(1e-4).scale(1.0));
    if (p[i] > 0.05) {
      ++inside;
      CHECK(proj[i] < flat[i]);  // the phantom attenuates where it is
    } else if (p[i] == 0) {
      CHECK(proj[i] == flat[i]);
    }
  }
  CHECK(inside > p.size() / 4);  // the fitted phantom fills a good part of the field
}

TEST_CASE(
    "camera frames: uint16 frames are the float frames rounded; noise repeats with the seed") {
  const FrameFormat f16{64, 48, DataType::uint16};
  FrameSource a(f16, quiet());
  FrameSource b({64, 48, DataType::float32}, quiet());
  const auto u = pixels_of<std::uint16_t>(a.render(FrameKind::projection, 10, 1));
  const auto x = pixels_of<float>(b.render(FrameKind::projection, 10, 1));
  // The Projector rounds its double intensity; the float frame has lost a few
  // bits of it, so a value near .5 may round the other way.
  for (std::size_t i = 0; i < u.size(); ++i)
    REQUIRE(std::abs(static_cast<double>(u[i]) - static_cast<double>(x[i])) <= 0.501);

  FrameSourceOptions noisy;
  noisy.seed = 7;
  FrameSource n1(f16, noisy), n2(f16, noisy);
  const auto r1 = pixels_of<std::uint16_t>(n1.render(FrameKind::projection, 10, 5));
  CHECK(r1 == pixels_of<std::uint16_t>(n2.render(FrameKind::projection, 10, 5)));
  CHECK(r1 != pixels_of<std::uint16_t>(n2.render(FrameKind::projection, 10, 6)));
  CHECK(r1 != u);
}

TEST_CASE("camera frames: every ADZMQ type renders; 8-bit types are not saturated") {
  for (DataType t : {DataType::int8, DataType::uint8, DataType::int16, DataType::uint16,
                     DataType::int32, DataType::uint32, DataType::int64, DataType::uint64,
                     DataType::float32, DataType::float64}) {
    INFO(capture::to_string(t));
    FrameSource src({32, 24, t}, quiet());
    const auto flat = src.render(FrameKind::flat, 0, 1);
    CHECK(flat.size() == 32 * 24 * capture::element_size(t));
    if (t == DataType::uint8) {
      const auto v = pixels_of<std::uint8_t>(flat);
      CHECK(*std::max_element(v.begin(), v.end()) == 240);  // 10 + 230 at the centre
      CHECK(*std::min_element(v.begin(), v.end()) > 100);
    }
    if (t == DataType::float64) {
      const auto v = pixels_of<double>(src.render(FrameKind::dark, 0, 1));
      CHECK(v.front() == 100.0);
    }
  }
}

TEST_CASE("camera frames: a wrong buffer size or alignment throws and leaves it alone") {
  FrameSource src({16, 16, DataType::uint16}, quiet());
  std::vector<std::byte> small(16 * 16 * 2 - 2, std::byte{7});
  CHECK_THROWS_AS(src.render(FrameKind::flat, 0, 1, small), std::invalid_argument);
  CHECK(small.front() == std::byte{7});
  std::vector<std::byte> big(16 * 16 * 2 + 1);
  CHECK_THROWS_AS(src.render(FrameKind::flat, 0, 1, std::span(big).subspan(1)),
                  std::invalid_argument);
  CHECK_THROWS_AS(FrameSource({0, 16, DataType::uint16}), std::invalid_argument);
}

TEST_CASE("camera frames: NDAttributes ColorMode, HDF5FrameLocation by kind, theta_readout") {
  const auto a = frame_attributes(FrameKind::dark, 12.5);
  REQUIRE(a.size() == 3);
  CHECK(a[0].name == "ColorMode");
  CHECK(std::get<std::int64_t>(a[0].value) == 0);
  CHECK(a[1].name == "HDF5FrameLocation");
  CHECK(std::get<std::string>(a[1].value) == "/exchange/data_dark");
  CHECK(a[2].name == "theta_readout");
  CHECK(std::get<double>(a[2].value) == 12.5);
  CHECK(hdf5_frame_location(FrameKind::flat) == "/exchange/data_white");
  CHECK(hdf5_frame_location(FrameKind::projection) == "/exchange/data");
}

TEST_CASE("camera acquisition: darks, flats, then projections at start + k * speed / rate") {
  Acquisition acq({.format = {8, 8, DataType::uint16},
                   .rate_hz = 10,
                   .darks = 2,
                   .flats = 1,
                   .projections = 4,
                   .start_deg = 5,
                   .speed_deg_s = 20,
                   .epics_seconds_at_tick0 = 1000});
  CHECK(acq.next_due() == kNever);
  acq.start(kTicksPerSecond);
  CHECK(acq.next_due() == kTicksPerSecond);
  const auto first = acq.advance(kTicksPerSecond + kTicksPerSecond / 10);  // frames 0 and 1
  REQUIRE(first.size() == 2);
  const auto rest = acq.advance(10 * kTicksPerSecond);
  REQUIRE(rest.size() == 5);
  CHECK(acq.done());
  CHECK(acq.next_due() == kNever);
  std::vector<FrameJob> all = first;
  all.insert(all.end(), rest.begin(), rest.end());
  const FrameKind kinds[] = {FrameKind::dark,       FrameKind::dark,       FrameKind::flat,
                             FrameKind::projection, FrameKind::projection, FrameKind::projection,
                             FrameKind::projection};
  for (std::size_t k = 0; k < all.size(); ++k) {
    INFO("frame ", k);
    CHECK(all[k].kind == kinds[k]);
    CHECK(all[k].tick == kTicksPerSecond + static_cast<Tick>(k) * kTicksPerSecond / 10);
    CHECK(all[k].timestamp == doctest::Approx(1001.0 + 0.1 * static_cast<double>(k)));
    const double angle = k < 3 ? 5.0 : 5.0 + 2.0 * static_cast<double>(k - 3);
    CHECK(all[k].angle_deg == doctest::Approx(angle));
  }
}

TEST_CASE("camera acquisition: triggers count only in their mode, while running") {
  Acquisition internal({.format = {8, 8, DataType::uint16}});
  internal.start(0);
  CHECK_FALSE(internal.trigger(5).has_value());
  CHECK(internal.dropped_triggers() == 1);

  Acquisition sw({.format = {8, 8, DataType::uint16},
                  .mode = TriggerMode::software,
                  .projections = 2,
                  .angle = [](Tick t) { return static_cast<double>(t); }});
  CHECK_FALSE(sw.trigger(1).has_value());  // not started
  sw.start(10);
  CHECK(sw.advance(1'000'000'000).empty());
  CHECK_FALSE(sw.trigger(9).has_value());  // before the start
  auto a = sw.trigger(11);
  REQUIRE(a.has_value());
  CHECK(a->angle_deg == 11.0);
  sw.set_kind(FrameKind::flat);  // forced: does not count towards the two projections
  CHECK(sw.trigger(12)->kind == FrameKind::flat);
  sw.set_kind(std::nullopt);
  CHECK(sw.trigger(13)->kind == FrameKind::projection);
  CHECK(sw.done());
  CHECK_FALSE(sw.trigger(14).has_value());
  CHECK(sw.dropped_triggers() == 3);
  CHECK_THROWS_AS(Acquisition({.rate_hz = 0}), std::invalid_argument);
}

TEST_CASE("camera acquisition: a TTLOUT edge of the simulated PandA makes a frame at its angle") {
  // CLOCK1 (period 1 ms) drives TTLOUT1; the stage turns at 90 deg/s from 0.
  test::Fpga fpga(test::logic_and_timing_blocks());
  Acquisition acq(
      {.format = {64, 48, DataType::uint16},
       .mode = TriggerMode::external,
       .projections = 3,
       .angle = [](Tick t) { return 90.0 * static_cast<double>(t) * kSecondsPerTick; }});
  acq.start(0);
  std::vector<FrameJob> jobs;
  fpga.engine.on_ttl_out = [&](std::size_t n, bool level, Tick t) {
    if (n != 1 || !level) return;
    if (auto job = acq.trigger(t)) jobs.push_back(*job);
  };
  fpga.write("CLOCK1.PERIOD.RAW", "125000");
  fpga.write("CLOCK1.WIDTH.RAW", "1000");
  fpga.write("CLOCK1.ENABLE", "ONE");
  fpga.write("TTLOUT1.VAL", "CLOCK1.OUT");
  fpga.run(kTicksPerSecond / 200);  // 5 ms: five rising edges, three frames
  REQUIRE(jobs.size() == 3);
  CHECK(acq.dropped_triggers() >= 2);
  FrameSource src(jobs[0].format, quiet());
  for (std::size_t k = 0; k < jobs.size(); ++k) {
    INFO("frame ", k);
    if (k > 0) CHECK(jobs[k].tick - jobs[k - 1].tick == 125000);  // one per CLOCK1 period
    CHECK(jobs[k].angle_deg == doctest::Approx(90.0 * static_cast<double>(jobs[k].tick) * 8e-9));
    // The frame rendered for the job is the projection at that angle.
    const auto got = pixels_of<std::uint16_t>(src.render(jobs[k].kind, jobs[k].angle_deg, 1));
    FrameSource ref(jobs[0].format, quiet());
    const auto want = pixels_of<std::uint16_t>(
        ref.render(FrameKind::projection, 90.0 * static_cast<double>(jobs[k].tick) * 8e-9, 9));
    CHECK(got == want);
  }
}

}  // namespace pandafly::sim::camera
