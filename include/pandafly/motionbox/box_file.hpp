#pragma once
// motionbox::BoxFile: the Motion Box's JSON file (the seed's format, so
// existing files keep working):
//
//   {"general": {"tolerance": T},
//    "motors": {"NAME": {"pv_root": "...", "lo_lim": L, "hi_lim": H, "center": C}, ...}}
//
// Rules
//   - Sans-IO: parse() takes the text, dump() gives it back; reading and the
//     atomic write are box_file_io.hpp's.
//   - Keys keep their order (nlohmann::ordered_json) and every key this
//     program does not know (at any level) is kept as it was, so a file that
//     is only read, or edited in one motor, is written back equal apart from
//     the edit. Output: 4-space indentation, as Python's json.dump(indent=4).
//   - parse() checks what homing needs: "general"."tolerance" a finite number
//     >= 0, "motors" an object, each motor with a string pv_root and finite
//     numbers lo_lim < hi_lim and lo_lim <= center <= hi_lim. Every problem
//     is a FileError "<source>:<line>:<column>: <what>" for syntax errors,
//     "<source>: <json path>: <what>" for the rest.
//   - add() refuses an existing name, change()/remove() an unknown one
//     (FileError naming the motor and the ones the file has); both check the
//     entry as parse() does. change() keeps the motor's other keys.
//
// Example:
//   auto box = BoxFile::parse(text, "bench.json");
//   box.change("A", {.pv_root = "bench:A", .lo_lim = -10, .center = 0, .hi_lim = 10});
//   write(box.dump());
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pandafly::motionbox {

class FileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One motor of the file.
struct MotorEntry {
  std::string pv_root;
  double lo_lim = 0;
  double center = 0;
  double hi_lim = 0;
  friend bool operator==(const MotorEntry&, const MotorEntry&) = default;
};

class BoxFile {
 public:
  /// Throws FileError (see Rules).
  [[nodiscard]] static BoxFile parse(std::string_view text, std::string_view source);
  /// A new file with a tolerance and no motors.
  [[nodiscard]] static BoxFile make(double tolerance);

  BoxFile(const BoxFile& other);
  BoxFile& operator=(const BoxFile& other);
  BoxFile(BoxFile&&) noexcept;
  BoxFile& operator=(BoxFile&&) noexcept;
  ~BoxFile();

  /// The text, 4-space indented, ending with a newline.
  [[nodiscard]] std::string dump() const;

  [[nodiscard]] double tolerance() const;
  /// Motor names in file order.
  [[nodiscard]] std::vector<std::string> names() const;
  [[nodiscard]] bool has(std::string_view name) const;
  /// Throws FileError for an unknown motor.
  [[nodiscard]] MotorEntry motor(std::string_view name) const;

  void add(const std::string& name, const MotorEntry& entry);
  void change(const std::string& name, const MotorEntry& entry);
  void remove(const std::string& name);
  void remove_all();

 private:
  struct Impl;
  explicit BoxFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Checks one entry as parse() does; throws FileError "<where>: <what>".
void check_entry(const MotorEntry& entry, const std::string& where);

}  // namespace pandafly::motionbox
