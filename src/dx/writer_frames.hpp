#pragma once
// The writer's frame checks (private to src/dx; writer.hpp Rules): which
// frames are lost before routing, and the warnings that name them.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pandafly/dx/writer.hpp"

namespace pandafly::dx::detail {

enum class FrameFault : std::uint8_t {
  none,
  size,
  shape,
  type,
  attributes,
  slot_taken,       ///< the slot holds a frame already
  slot_beyond,      ///< slot ≥ the dataset's slots
  slot_missing,     ///< no slot, for a slotted dataset
  slot_unexpected,  ///< a slot, for a dataset that is not slotted
};
inline constexpr std::size_t frame_faults = 9;

/// Why `f` cannot be stored in a file of geometry `g` (none: it can).
[[nodiscard]] FrameFault check_frame(const FrameRecord& f, const FrameGeometry& g) noexcept;

/// Lost frames by fault, each with the first frame that had it.
class FrameFaults {
 public:
  /// `dataset`: where the frame was routed (slot faults name it).
  void add(FrameFault fault, const FrameRecord& f, std::string_view dataset = {});
  [[nodiscard]] std::uint64_t total() const noexcept;
  [[nodiscard]] std::vector<std::string> warnings(const FrameGeometry& g) const;

 private:
  struct Tally {
    std::uint64_t count = 0;
    std::int64_t first_id = 0;
    std::string detail;
  };
  std::array<Tally, frame_faults> tally_{};
};

/// The detector dataset whose frames are projections (`<group>/data`), whose
/// angles must all be finite for a complete scan.
[[nodiscard]] bool is_projection_stack(std::string_view path) noexcept;

}  // namespace pandafly::dx::detail
