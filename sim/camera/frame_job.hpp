#pragma once
// The small value types the camera simulator passes around: what kind of frame,
// in which format, and one frame to render and publish (FrameJob). A FrameJob
// is a description, not pixels: the publisher thread renders it, so whoever
// triggers (a CA callback, the PandA's TTLOUT callback) never waits for ~25 ms
// of physics.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "pandafly/capture/adzmq.hpp"
#include "pandafly/capture/adzmq_encoder.hpp"
#include "sim/ticks.hpp"

namespace pandafly::sim::camera {

/// What the beam sees: the sample (projection), nothing (flat, "white") or no
/// beam at all (dark).
enum class FrameKind : std::uint8_t { projection, flat, dark };

/// "projection", "flat", "dark".
[[nodiscard]] std::string_view to_string(FrameKind kind);
/// The DXfile dataset a frame of this kind belongs in, as beamline IOCs set the
/// HDF5FrameLocation attribute: /exchange/data, /exchange/data_white,
/// /exchange/data_dark.
[[nodiscard]] std::string_view hdf5_frame_location(FrameKind kind);

/// Size and pixel type of a frame.
struct FrameFormat {
  std::size_t width = 2048;   ///< SizeX, pixels per row
  std::size_t height = 2048;  ///< SizeY, rows
  capture::DataType type = capture::DataType::uint16;

  [[nodiscard]] std::size_t pixels() const { return width * height; }
  [[nodiscard]] std::size_t bytes() const { return pixels() * capture::element_size(type); }
  friend bool operator==(const FrameFormat&, const FrameFormat&) = default;
};

/// One frame to render and publish.
struct FrameJob {
  FrameKind kind = FrameKind::projection;
  double angle_deg = 0;  ///< the stage angle to render (projections)
  double timestamp = 0;  ///< NDArray.timeStamp: s since the EPICS epoch (1990-01-01 UTC)
  FrameFormat format{};
  Tick tick = 0;  ///< the trigger's simulation tick (for the caller's bookkeeping)
  /// NDArray.uniqueId; empty: the publisher numbers frames 1, 2, ... (after
  /// the last number it sent).
  std::optional<std::uint64_t> unique_id{};
  /// The noise seed of this frame; empty: the unique id.
  std::optional<std::uint64_t> seed{};
  /// The NDAttributes to send; empty: frame_attributes(kind, angle_deg)
  /// (the standalone camera simulator's ColorMode, HDF5FrameLocation,
  /// theta_readout = angle_deg).
  std::optional<std::vector<capture::Attribute>> attributes{};
  /// false: the frame is rendered for on_pixels only, never sent.
  bool send = true;
  /// Called once, on the publisher thread, with the frame's pixels (the bytes
  /// that are sent, once they are; valid during the call only), or with
  /// none when they could not be made (a render failure); never for a job
  /// that was refused or that stop() discarded. It must not call back into
  /// the Publisher.
  std::function<void(std::span<const std::byte>)> on_pixels{};
};

/// Seconds from the Unix epoch to the EPICS epoch (1990-01-01 UTC).
inline constexpr double kEpicsEpochUnixSeconds = 631152000.0;

}  // namespace pandafly::sim::camera
