#pragma once
// XdiWriter: a position-versus-time table as an XDI 1.0 file, written row by
// row so that a scan that dies leaves every row it took on disk.
//
// Rules
//   - The constructor creates the file (never over an existing one unless
//     Options::overwrite) and writes the header; each append() writes one
//     row and flushes it to the kernel, so a crash loses nothing appended.
//   - close(end_fields) adds fields known only at the end (Scan.end_time) by
//     writing the whole file again next to it ("<path>.tmp"), syncing it and
//     renaming it over the streamed one: the file on disk is always a
//     complete XDI file, with or without the end fields.
//   - Errors throw: std::invalid_argument for what the formatter refuses
//     (nothing written for that row), std::system_error naming the path and
//     the operation for I/O (a full disk): rows written before stay readable.
//   - The reference reader reads at most 16384 lines; rows() lets a caller
//     warn. One thread owns a writer.
//
// Example:
//   dx::XdiWriter xdi("scan.xdi", header);
//   for (...) xdi.append(std::array{angle, elapsed, stamp});
//   xdi.close({{"Scan", "end_time", iso_now}});
#include <cstdio>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "pandafly/dx/xdi.hpp"

namespace pandafly::dx {

class XdiWriter {
 public:
  struct Options {
    bool overwrite = false;
  };
  XdiWriter(std::filesystem::path path, XdiHeader header, Options options);
  XdiWriter(std::filesystem::path path, XdiHeader header)
      : XdiWriter(std::move(path), std::move(header), Options{}) {}
  XdiWriter(const XdiWriter&) = delete;
  XdiWriter& operator=(const XdiWriter&) = delete;
  /// Closes the streamed file without rewriting it (no end fields).
  ~XdiWriter();

  void append(std::span<const double> row);
  void close(const std::vector<XdiField>& end_fields = {});

  [[nodiscard]] std::size_t rows() const noexcept { return rows_; }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  struct FileCloser {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
  };
  void write(std::FILE* f, const std::string& text, const std::filesystem::path& where,
             const char* what);

  std::filesystem::path path_;
  XdiHeader header_;
  std::unique_ptr<std::FILE, FileCloser> file_;
  std::string rows_text_;  // everything appended, for the rewrite at close()
  std::size_t rows_ = 0;
};

}  // namespace pandafly::dx
