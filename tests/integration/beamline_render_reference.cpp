// beamline_render_reference CONFIG OUT [--noise] [--fields N] [--truth-slice FILE] [ANGLE...]:
// the frames the joined beamline simulator's camera would show at each stage
// ANGLE (degrees), in its configured size and pixel type, concatenated raw
// into OUT — noise-free by default (sim_beamline.sh compares recorded frames
// with them), with the camera's Poisson and read noise under --noise (seeded
// by the frame's index: the reference scan a fly scan's reconstruction is
// measured against). --fields N also writes N darks to OUT.dark and N flats to
// OUT.flat (noisy under --noise); --truth-slice writes the phantom's slice at
// the middle detector row (width × width float32, 1/mm). CONFIG "-" is the
// built-in beamline. Exit 0 written, 1 bad arguments or file.
#include <cstdio>
#include <exception>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "sim/beamline_simulator.hpp"
#include "sim/ca/config.hpp"
#include "sim/camera/ca_camera_feed.hpp"
#include "sim/camera/frame_source.hpp"
#include "sim/text_file.hpp"

namespace sim = pandafly::sim;
using sim::camera::FrameKind;

namespace {

void write(std::ofstream& out, std::span<const std::byte> px) {
  out.write(reinterpret_cast<const char*>(px.data()), static_cast<std::streamsize>(px.size()));
}

void render_fields(sim::camera::FrameSource& source, FrameKind kind, int n, std::uint64_t& seed,
                   const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  for (int i = 0; i < n; ++i) write(out, source.render(kind, 0.0, seed++));
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    fmt::print(stderr,
               "usage: beamline_render_reference CONFIG OUT [--noise] [--fields N] "
               "[--truth-slice FILE] [ANGLE...]\n");
    return 1;
  }
  try {
    const std::string config_path = argv[1];
    const std::string out_path = argv[2];
    bool noise = false;
    int fields = 0;
    std::string truth_path;
    std::vector<double> angles;
    for (int i = 3; i < argc; ++i) {
      const std::string arg = argv[i];
      if (arg == "--noise") {
        noise = true;
      } else if (arg == "--fields" && i + 1 < argc) {
        fields = std::stoi(argv[++i]);
      } else if (arg == "--truth-slice" && i + 1 < argc) {
        truth_path = argv[++i];
      } else {
        angles.push_back(std::stod(arg));
      }
    }
    const auto config =
        config_path == "-" ? sim::ca::default_config() : sim::ca::load_config(config_path);
    if (config.cameras.empty()) throw std::runtime_error(config_path + ": no camera");
    const auto& cam = config.cameras.front();
    auto options = sim::BeamlineSimulator::frame_source_options(config);
    options.noise = noise;
    sim::camera::FrameSource source(
        {static_cast<std::size_t>(cam.size_x), static_cast<std::size_t>(cam.size_y),
         sim::camera::data_type_of(cam.data_type)},
        options);
    std::uint64_t seed = 1;
    std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
    for (const double angle : angles)
      write(out, source.render(FrameKind::projection, angle, seed++));
    out.close();
    if (!out) throw std::runtime_error("cannot write " + out_path);
    if (fields > 0) {
      render_fields(source, FrameKind::dark, fields, seed, out_path + ".dark");
      render_fields(source, FrameKind::flat, fields, seed, out_path + ".flat");
    }
    if (!truth_path.empty()) {
      const auto slice = source.truth_slice(static_cast<std::size_t>(cam.size_y) / 2);
      if (!sim::write_floats(truth_path, slice))
        throw std::runtime_error("cannot write " + truth_path);
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "beamline_render_reference: {}\n", e.what());
    return 1;
  }
  return 0;
}
