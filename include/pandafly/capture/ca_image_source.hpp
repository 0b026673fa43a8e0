#pragma once
// CaImageSource: camera frames read over Channel Access from an areaDetector
// NDPluginStdArrays plugin (`<P>image1:`), handed out in the same shape as
// ZmqReceiver's (a ReceivedFrame that owns its pixels), so one writer path
// serves both.
//
// Rules
//   Waiting on the frame itself: a monitor on `<prefix>UniqueId_RBV`. NDPluginStdArrays
//   posts ArrayData first and its parameters (UniqueId_RBV among them) after it
//   ("the counter should be updated after data are posted because clients
//   might use that to detect new data", NDPluginStdArrays.cpp), so an update of
//   UniqueId_RBV to k means ArrayData has held frame k. The driver's
//   cam:ArrayCounter_RBV and the Acquire put-callback complete before the
//   plugin has the array (reference channel-access.md §4.2): never waited on.
//   Per update k: ArrayData is read (DBR_TIME, count 0 = NORD) and checked,
//   then handed out as frame k or reported as a SkippedFrame (never both).
//   The frame: header.frame = k, header.timestamp = ArrayData's EPICS time
//   stamp in seconds since 1990 (as ADZMQ's timeStamp), header.type from
//   `<prefix>DataType_RBV` (the NDArray's type), header.shape
//   {ArraySize1_RBV, ArraySize0_RBV} (slowest first; {ArraySize0_RBV} when
//   ArraySize1_RBV is 0), no attributes, little-endian pixel bytes.
//   The race and its rule: ArrayData may already hold a later frame when the
//   get for k is served (frame k+1 arrived meanwhile). ArrayData's time stamp
//   tells: it is the time its record processed (the template's default) or
//   the NDArray's epicsTS (TSE -2); either way ArrayData(k) is not later than
//   UniqueId_RBV(k)'s update and ArrayData(k+1) is later. So the array read
//   for update k is frame k exactly when
//       stamp(UniqueId update before k) < stamp(ArrayData) <= stamp(UniqueId update k);
//   later → SkipReason::overwritten (that array is kept and used for k+1 if
//   it fits k+1's window: no second get); not later than the previous update
//   → SkipReason::stale (ArrayData did not change: image1:ArrayCallbacks
//   Disable, or a plugin whose waveform was not processed); two updates
//   with the same stamp → SkipReason::ambiguous (frames cannot be told apart).
//   This assumes the IOC's records process in posting order (EPICS' default
//   single callback thread per priority) and distinct stamps per frame.
//   Shape and type: monitored (ArraySize0/1_RBV, DataType_RBV); when the
//   array's element count is not their product the sizes are read again
//   once; still different → SkipReason::shape.
//   Pixel conversion (convert_pixels): the waveform's CA type (FTVL: SHORT,
//   LONG for UInt16, …) is turned into DataType_RBV's type. A same-size
//   integer type is reinterpreted bit for bit (an Int16 waveform carrying
//   UInt16 pixels: −1 → 65535); a wider type is converted and every value
//   must fit exactly. A waveform type that cannot carry every value of the
//   pixel type (Int32 pixels on a SHORT waveform: the IOC truncated them) or
//   a value that does not fit → SkipReason::conversion, naming both.
//   Frame numbers: the monitor's first update is the value before this source
//   existed (a baseline, never handed out); the constructor waits for it, so
//   every frame the plugin posts after the constructor returns is seen:
//   construct the source before the acquisition or trigger. An update equal
//   to the last number with the same stamp (a reconnect) is ignored; a jump
//   of more than 1 adds the numbers skipped to stats().missing (their arrays
//   were never seen); a number not above the last one starts the sequence
//   again (ArrayCounter reset: stats().restarts).
//   Threads: one consumer thread calls next(); stats() may be called from
//   any thread (a snapshot as of the last update next() took); libca's
//   threads only enqueue monitor updates.
//   Errors: the constructor throws ca::Error (Errc::timeout) naming every PV
//   not found within options.connect_timeout. next() throws ca::Error for a
//   failed read (timeout, disconnect; "… (reading frame k)": that frame is
//   lost, the next call goes on with the next update), and
//   ca::Error(std::errc::operation_canceled) when `stop` is requested while
//   it waits — within about 10 ms (the update queue is polled in 10 ms
//   slices while a token can stop it: ca::Monitor::pop takes no token). An
//   update already queued wins over a stop.
//
// Example:
//   ca::Context ctx;
//   capture::CaImageSource images(ctx, {.prefix = "FLIR5:image1:"});
//   trigger.put(std::string("Trigger"));                     // cam5:TriggerSoftware
//   auto e = images.next(5s, stop.get_token());
//   if (!e) fail("no frame within 5 s");
//   else if (auto* f = std::get_if<capture::ReceivedFrame>(&*e)) write(f->frame());
//   else log(std::get<capture::SkippedFrame>(*e).message);
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "pandafly/ca/channel.hpp"
#include "pandafly/ca/context.hpp"
#include "pandafly/ca/value.hpp"
#include "pandafly/capture/adzmq.hpp"
#include "pandafly/capture/zmq_receiver.hpp"
#include "pandafly/util/stop.hpp"

namespace pandafly::capture {

struct CaImageSourceOptions {
  /// The plugin's prefix, P + R: "FLIR5:image1:".
  std::string prefix;
  /// All PVs must connect within this (one deadline for all of them).
  ca::Timeout connect_timeout{5.0};
  /// Each ArrayData read (and the size re-read).
  ca::Timeout read_timeout{5.0};
  /// UniqueId_RBV updates queued between libca and next(); the oldest is
  /// dropped beyond it (then counted in stats().missing).
  std::size_t queue_capacity = 1024;
};

/// Why a frame number whose UniqueId_RBV update arrived was not handed out.
enum class SkipReason {
  overwritten,  ///< ArrayData already held a later frame
  stale,        ///< ArrayData had not changed since the previous frame
  ambiguous,    ///< two frames with one time stamp: cannot be told apart
  shape,        ///< element count ≠ ArraySize0_RBV × ArraySize1_RBV
  conversion,   ///< the waveform's type cannot carry DataType_RBV's pixels
};
[[nodiscard]] std::string_view to_string(SkipReason r) noexcept;

struct SkippedFrame {
  std::uint64_t frame = 0;  ///< the UniqueId
  SkipReason reason = SkipReason::stale;
  std::string message;  ///< names the PVs, stamps or values concerned
};

/// What next() hands out: the frame, or why frame k is not one.
using CaImageEvent = std::variant<ReceivedFrame, SkippedFrame>;

struct CaImageSourceStats {
  std::uint64_t updates = 0;                ///< UniqueId_RBV updates taken (baseline included)
  std::uint64_t frames = 0;                 ///< handed out
  std::uint64_t skipped = 0;                ///< reported as SkippedFrame
  std::uint64_t missing = 0;                ///< numbers jumped over (never seen)
  std::uint64_t restarts = 0;               ///< the number went down or repeated with a new stamp
  std::uint64_t reads = 0;                  ///< ArrayData gets (a reused array costs none)
  std::optional<std::uint64_t> last_frame;  ///< the last UniqueId taken
};

/// The bytes of `values` (one CA waveform read) as pixels of type `type`,
/// little-endian, per the Rules ("Pixel conversion"). On failure: nullopt and
/// `error` says why (naming `pv`).
[[nodiscard]] std::optional<std::vector<std::byte>> convert_pixels(const ca::Value& values,
                                                                   DataType type,
                                                                   std::string_view pv,
                                                                   std::string& error);
/// DataType_RBV's state names ("Int8" … "Float64", NDDataType_t) → the type; nullopt if unknown.
[[nodiscard]] std::optional<DataType> data_type_from_nd(std::string_view name) noexcept;

class CaImageSource {
 public:
  /// Connects `<prefix>` UniqueId_RBV, ArrayData, ArraySize0_RBV,
  /// ArraySize1_RBV and DataType_RBV and subscribes (see Rules for errors).
  CaImageSource(const ca::Context& context, CaImageSourceOptions options);
  ~CaImageSource();
  CaImageSource(const CaImageSource&) = delete;
  CaImageSource& operator=(const CaImageSource&) = delete;

  /// The next frame or skipped frame, waiting at most `timeout` for a
  /// UniqueId_RBV update (a read after it has its own read_timeout); nullopt
  /// when none came. Throws as the Rules say.
  [[nodiscard]] std::optional<CaImageEvent> next(std::chrono::milliseconds timeout,
                                                 util::StopToken stop = {});

  [[nodiscard]] CaImageSourceStats stats() const;
  [[nodiscard]] const std::string& prefix() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pandafly::capture
