// XdiWriter (rules in include/pandafly/dx/xdi_writer.hpp).
#include "pandafly/dx/xdi_writer.hpp"

#include <cerrno>
#include <system_error>

#include <fmt/format.h>
#include <unistd.h>

namespace pandafly::dx {
namespace {

[[noreturn]] void fail(const char* what, const std::filesystem::path& path, int error) {
  throw std::system_error(error, std::generic_category(),
                          fmt::format("XDI {} {}", what, path.string()));
}

}  // namespace

XdiWriter::XdiWriter(std::filesystem::path path, XdiHeader header, Options options)
    : path_(std::move(path)), header_(std::move(header)) {
  const std::string text = format_xdi_header(header_);  // throws before the file exists
  // "x": fail if it exists (C11 exclusive mode), unless overwriting.
  file_.reset(std::fopen(path_.c_str(), options.overwrite ? "w" : "wx"));
  if (!file_) fail("cannot create", path_, errno);
  write(file_.get(), text, path_, "cannot write the header of");
}

XdiWriter::~XdiWriter() = default;

void XdiWriter::write(std::FILE* f, const std::string& text, const std::filesystem::path& where,
                      const char* what) {
  if (std::fwrite(text.data(), 1, text.size(), f) != text.size() || std::fflush(f) != 0)
    fail(what, where, errno);
}

void XdiWriter::append(std::span<const double> row) {
  if (!file_) throw std::logic_error("XdiWriter::append after close");
  const std::string text = format_xdi_row(header_, row);
  write(file_.get(), text, path_, "cannot append a row to");
  rows_text_ += text;
  ++rows_;
}

void XdiWriter::close(const std::vector<XdiField>& end_fields) {
  if (!file_) return;
  if (end_fields.empty()) {
    if (std::fclose(file_.release()) != 0) fail("cannot close", path_, errno);
    return;
  }
  XdiHeader full = header_;
  full.fields.insert(full.fields.end(), end_fields.begin(), end_fields.end());
  const std::string text = format_xdi_header(full) + rows_text_;
  const std::filesystem::path tmp = path_.string() + ".tmp";
  {
    std::unique_ptr<std::FILE, FileCloser> out(std::fopen(tmp.c_str(), "w"));
    if (!out) fail("cannot create", tmp, errno);
    write(out.get(), text, tmp, "cannot write");
    if (::fsync(::fileno(out.get())) != 0) fail("cannot sync", tmp, errno);
    if (std::fclose(out.release()) != 0) fail("cannot close", tmp, errno);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path_, ec);
  if (ec) fail("cannot rename the rewritten file to", path_, ec.value());
  file_.reset();  // the streamed file's descriptor; its name now holds the new file
}

}  // namespace pandafly::dx
