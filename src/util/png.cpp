// PNG writer (contract in include/pandafly/util/png.hpp).
#include "pandafly/util/png.hpp"

#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

#include <fmt/format.h>
#include <png.h>

namespace pandafly::util {
namespace {

struct FileClose {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};

// libpng reports errors through this callback, which must not return: it
// records the message and longjmps back to write_rows' setjmp.
struct ErrorState {
  std::string message;
};

void on_error(png_structp png, png_const_charp message) {
  auto* state = static_cast<ErrorState*>(png_get_error_ptr(png));
  state->message = message;
  png_longjmp(png, 1);
}
void on_warning(png_structp, png_const_charp) {}

// Writes the image; returns "" or libpng's message. No C++ object with a
// destructor lives across the setjmp.
std::string write_rows(std::FILE* file, std::size_t width, std::size_t height,
                       const std::uint8_t* pixels) {
  ErrorState state;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &state, on_error, on_warning);
  if (png == nullptr) return "png_create_write_struct failed";
  png_infop info = png_create_info_struct(png);
  if (info == nullptr || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return state.message.empty() ? "png_create_info_struct failed" : state.message;
  }
  png_init_io(png, file);
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), 8,
               PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (std::size_t r = 0; r < height; ++r) png_write_row(png, pixels + r * width);
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return {};
}

}  // namespace

void write_png_gray8(const std::filesystem::path& path, std::size_t width, std::size_t height,
                     std::span<const std::uint8_t> pixels) {
  if (width == 0 || height == 0 || pixels.size() != width * height || width > 0x7fffffff ||
      height > 0x7fffffff)
    throw std::runtime_error(fmt::format("{}: a {} × {} PNG needs {} bytes, got {}", path.string(),
                                         width, height, width * height, pixels.size()));
  auto tmp = path;
  tmp += ".tmp";
  std::unique_ptr<std::FILE, FileClose> file(std::fopen(tmp.c_str(), "wb"));
  if (!file) throw std::runtime_error(fmt::format("{}: {}", tmp.string(), std::strerror(errno)));
  std::string error = write_rows(file.get(), width, height, pixels.data());
  if (error.empty() && std::fflush(file.get()) != 0) error = std::strerror(errno);
  if (std::fclose(file.release()) != 0 && error.empty()) error = std::strerror(errno);
  std::error_code ec;
  if (error.empty()) {
    std::filesystem::rename(tmp, path, ec);
    if (ec) error = ec.message();
  }
  if (!error.empty()) {
    std::filesystem::remove(tmp, ec);
    throw std::runtime_error(fmt::format("{}: cannot write the PNG: {}", path.string(), error));
  }
}

}  // namespace pandafly::util
