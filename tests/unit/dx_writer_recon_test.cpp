// The whole writer path against an independent reader and a reconstruction
// (file-formats.md §5.3): transmission frames of a 64×64 Shepp–Logan phantom
// made by skimage.transform.radon in Python, pushed through dx::Writer from
// C++ with their angles and dark/flat routing, read back by dxchange,
// normalised and reconstructed with iradon (tests/unit/dx_writer_recon.py).
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "dx_writer_test_util.hpp"
#include "pandafly/dx/writer.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace pandafly;

namespace {

template <class T>
std::vector<T> read_raw(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<T> v(fs::file_size(p) / sizeof(T));
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(T)));
  return v;
}

double value_after(const std::string& output, const std::string& key) {
  const auto at = output.find(key + "=");
  REQUIRE(at != std::string::npos);
  return std::stod(output.substr(at + key.size() + 1));
}

}  // namespace

TEST_CASE(
    "Writer: a Shepp-Logan scan written by the Writer and read by dxchange reconstructs (RMS < "
    "0.05)") {
  test::TempDir dir("dx_writer_recon");
  const auto made = test::run_python("dx_writer_recon.py", "make '" + dir.path.string() + "'");
  INFO(made.output);
  REQUIRE(made.status == 0);
  std::size_t darks = 0, flats = 0, projections = 0;
  std::ifstream(dir.path / "counts.txt") >> darks >> flats >> projections;
  const auto pixels = read_raw<std::uint16_t>(dir.path / "frames.u16");
  const auto angles = read_raw<double>(dir.path / "angles.f64");
  constexpr std::size_t rows = 4, width = 64;
  REQUIRE(pixels.size() == (darks + flats + projections) * rows * width);
  REQUIRE(angles.size() == projections);

  dx::WriterOptions o;
  o.path = dir.path / "shepp.h5";
  o.layout = test::test_layout();
  o.frame = {.height = rows, .width = width, .type = capture::DataType::uint16};
  o.compression = dx::Compression::bitshuffle_lz4;  // the fast path, end to end
  o.frames_expected = {{"/exchange/data", projections},
                       {"/exchange/data_dark", darks},
                       {"/exchange/data_white", flats}};
  dx::Writer w(o);
  const auto all = std::make_shared<const std::vector<std::uint16_t>>(pixels);
  for (std::size_t k = 0; k < darks + flats + projections; ++k) {
    dx::FrameRecord r;
    r.pixels = std::as_bytes(std::span(*all).subspan(k * rows * width, rows * width));
    r.owner = all;  // every frame views one buffer: no copy
    r.unique_id = static_cast<std::int64_t>(k);
    if (k < darks) {
      r.set("HDF5FrameLocation", std::string("/exchange/data_dark"));
    } else if (k < darks + flats) {
      r.set("HDF5FrameLocation", std::string("/exchange/data_white"));
    } else {
      r.angle = angles[k - darks - flats];  // no attribute: the default dataset
    }
    REQUIRE(w.push(std::move(r)));
  }
  const auto end = w.finish(dx::Ending::completed());
  CHECK(end.complete);
  const auto r = test::run_python("dx_writer_recon.py", "check '" + o.path.string() + "'");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(value_after(r.output, "rms") < 0.05);
  // The check can fail: the same sinogram with a unit mix-up is far off.
  CHECK(value_after(r.output, "rms_theta_as_degrees") > 0.1);
}
