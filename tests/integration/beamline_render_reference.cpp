// beamline_render_reference CONFIG OUT [ANGLE...]: the noise-free frames the
// joined beamline simulator's camera would show at each stage ANGLE (degrees),
// in its configured size and pixel type, concatenated raw into OUT — the
// references sim_beamline.sh compares the recorded frames with. CONFIG "-"
// is the built-in beamline. Exit 0 written, 1 bad arguments or file.
#include <cstdio>
#include <exception>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "sim/beamline_simulator.hpp"
#include "sim/ca/config.hpp"
#include "sim/camera/ca_camera_feed.hpp"
#include "sim/camera/frame_source.hpp"

namespace sim = pandafly::sim;

int main(int argc, char** argv) {
  if (argc < 3) {
    fmt::print(stderr, "usage: beamline_render_reference CONFIG OUT [ANGLE...]\n");
    return 1;
  }
  try {
    const std::string config_path = argv[1];
    const auto config =
        config_path == "-" ? sim::ca::default_config() : sim::ca::load_config(config_path);
    if (config.cameras.empty()) throw std::runtime_error(config_path + ": no camera");
    const auto& cam = config.cameras.front();
    auto options = sim::BeamlineSimulator::frame_source_options(config);
    options.noise = false;
    sim::camera::FrameSource source(
        {static_cast<std::size_t>(cam.size_x), static_cast<std::size_t>(cam.size_y),
         sim::camera::data_type_of(cam.data_type)},
        options);
    std::ofstream out(argv[2], std::ios::binary | std::ios::trunc);
    for (int i = 3; i < argc; ++i) {
      const double angle = std::stod(argv[i]);
      const auto px = source.render(sim::camera::FrameKind::projection, angle, 0);
      out.write(reinterpret_cast<const char*>(px.data()), static_cast<std::streamsize>(px.size()));
    }
    out.close();
    if (!out) throw std::runtime_error(std::string("cannot write ") + argv[2]);
  } catch (const std::exception& e) {
    fmt::print(stderr, "beamline_render_reference: {}\n", e.what());
    return 1;
  }
  return 0;
}
