#pragma once
// FrameSource: the pixels of the simulated camera — a parallel-beam projection
// of a 3D ellipsoid phantom through a flat beam (physics::Projector), a flat
// (beam, no sample) or a dark (no beam), in any of the ten ADZMQ pixel types.
//
// Rules
//   * One format (size, type) per FrameSource; make another for another format.
//     The constructor allocates and touches every buffer it will need (this VM
//     is slow the first time it touches memory); render() allocates nothing.
//   * uint16 and float32 are rendered by the Projector directly. Every other
//     type is rendered in float32 and converted: integers rounded and clamped
//     to the type's range, float64 widened. 8-bit types get a smaller default
//     gain and dark offset (uint8: 10 + 230, int8: 5 + 110 counts) so the beam
//     does not saturate them; 16 bits and wider use the Projector's defaults
//     (100 + 20000).
//   * The default phantom is Phantom::shepp_logan_3d scaled to fit the
//     detector (0.95 of min(width, height / 0.9) pixels wide), centred on the
//     rotation axis, so every projection shows all of it when the axis is
//     centred (axis_offset_px 0).
//   * Deterministic: same options, kind, angle and frame_seed → same bytes
//     (noise included). With noise off, frame_seed does not matter.
//   * Not thread-safe (the buffers): one thread renders (the publisher's).
//
// Example:
//   FrameSource src({.width = 256, .height = 256, .type = capture::DataType::uint16},
//                   {.noise = false});
//   std::span<const std::byte> px = src.render(FrameKind::projection, 30.0, /*frame_seed=*/1);
//   auto attrs = frame_attributes(FrameKind::projection, 30.0);  // HDF5FrameLocation,
//   theta_readout
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "pandafly/capture/adzmq_encoder.hpp"
#include "sim/camera/frame_job.hpp"
#include "sim/physics/phantom.hpp"
#include "sim/physics/projector.hpp"

namespace pandafly::sim::camera {

struct FrameSourceOptions {
  double pixel_mm = 0.0065;                   ///< detector pixel at the sample, mm
  bool noise = true;                          ///< Poisson photon + Gaussian read noise
  std::uint64_t seed = 0;                     ///< mixed into every frame's noise
  std::optional<physics::Phantom> phantom{};  ///< empty: Shepp-Logan 3D fitted to the detector
  /// The rotation axis' column minus the detector's centre column
  /// (width - 1) / 2, in pixels (ca::PhantomConfig::axis_offset_px).
  double axis_offset_px = 0;
  std::optional<double> gain{};         ///< counts of the open beam; empty: by type
  std::optional<double> dark_offset{};  ///< counts without beam; empty: by type
};

class FrameSource {
 public:
  /// Throws std::invalid_argument for an empty format or a bad option (as the
  /// Projector does).
  FrameSource(FrameFormat format, FrameSourceOptions options = {});

  [[nodiscard]] const FrameFormat& format() const { return format_; }
  [[nodiscard]] const physics::Projector& projector() const { return projector_; }
  [[nodiscard]] const physics::Phantom& phantom() const { return phantom_; }
  /// The phantom's attenuation (1/mm) in the plane of detector row `row`, on
  /// a width × width grid of detector pixels centred on the rotation axis
  /// (row-major, y then x): the slice a reconstruction of that row must show.
  [[nodiscard]] std::vector<float> truth_slice(std::size_t row) const;

  /// Renders one frame into `out`, which must be exactly format().bytes() long
  /// and aligned for the pixel type (std::invalid_argument otherwise, `out`
  /// untouched). `angle_deg` is ignored for flats and darks.
  void render(FrameKind kind, double angle_deg, std::uint64_t frame_seed, std::span<std::byte> out);
  /// Renders into the source's own buffer; the view is valid until the next call.
  [[nodiscard]] std::span<const std::byte> render(FrameKind kind, double angle_deg,
                                                  std::uint64_t frame_seed);

 private:
  template <typename T>
  void render_as(FrameKind kind, double angle_deg, std::uint64_t frame_seed, std::span<T> out);

  FrameFormat format_;
  physics::Phantom phantom_;
  physics::Projector projector_;
  std::vector<float> scratch_;  // float32 rendering of the types the Projector cannot write
  std::vector<std::byte> own_;  // render()'s buffer without an `out`
};

/// The NDAttributes a beamline IOC attaches to a frame, in order: ColorMode 0
/// (mono), HDF5FrameLocation (hdf5_frame_location(kind)), theta_readout (the
/// stage angle in degrees, float64).
[[nodiscard]] std::vector<capture::Attribute> frame_attributes(FrameKind kind, double angle_deg);

}  // namespace pandafly::sim::camera
