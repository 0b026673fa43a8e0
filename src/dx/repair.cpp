// dx::repair (rules in include/pandafly/dx/repair.hpp).
#include "pandafly/dx/repair.hpp"

#include <fmt/format.h>

#include "pandafly/h5/dataset.hpp"
#include "pandafly/h5/error.hpp"
#include "pandafly/h5/file.hpp"
#include "writer_parts.hpp"

namespace pandafly::dx {
namespace {

constexpr const char* kReason = "/process/acquisition/pandafly_end/reason";
constexpr const char* kInProgress = "acquisition in progress";

std::optional<capture::DataType> pixel_type_of(hid_t dataset) {
  using D = capture::DataType;
  const h5::Handle t(H5Dget_type(dataset), h5::Kind::datatype);
  if (!t) return std::nullopt;
  const auto size = H5Tget_size(t.get());
  if (H5Tget_class(t.get()) == H5T_FLOAT) {
    if (size == 4) return D::float32;
    if (size == 8) return D::float64;
    return std::nullopt;
  }
  if (H5Tget_class(t.get()) != H5T_INTEGER) return std::nullopt;
  const bool sign = H5Tget_sign(t.get()) == H5T_SGN_2;
  switch (size) {
    case 1:
      return sign ? D::int8 : D::uint8;
    case 2:
      return sign ? D::int16 : D::uint16;
    case 4:
      return sign ? D::int32 : D::uint32;
    case 8:
      return sign ? D::int64 : D::uint64;
    default:
      return std::nullopt;
  }
}

// Detector datasets /exchange/data{,_dark,_white} and their theta.
void take(hid_t file, const char* name, std::string& path, std::string& theta,
          std::uint64_t& rows) {
  const std::string p = std::string("/exchange/") + name;
  if (!h5::path_exists(file, p)) return;
  path = p;
  rows = h5::Dataset::open(file, p).rows();
  const std::string t = "/exchange/theta" + std::string(name).substr(4);
  if (h5::path_exists(file, t)) theta = t;
}

void add_view(hid_t file, RepairResult& r) {
  if (h5::path_exists(file, "/entry") || !h5::path_exists(file, "/exchange/data")) return;
  const auto data = h5::Dataset::open(file, "/exchange/data");
  const auto type = pixel_type_of(data.id());
  const auto space = h5::Handle(H5Dget_space(data.id()), h5::Kind::dataspace);
  hsize_t dims[3] = {};
  if (!type || H5Sget_simple_extent_ndims(space.get()) != 3) return;
  H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  detail::NxtomoInput in;
  take(file, "data", in.projections, in.projections_theta, in.n_projections);
  take(file, "data_dark", in.darks, in.darks_theta, in.n_darks);
  take(file, "data_white", in.flats, in.flats_theta, in.n_flats);
  const FrameGeometry frame{.height = dims[1], .width = dims[2], .type = *type};
  if (detail::add_nxtomo(file, in, frame, {})) {
    r.done.push_back(fmt::format("added the NXtomo view /entry over {} frames",
                                 in.n_projections + in.n_darks + in.n_flats));
  }
}

void mark_end(hid_t file, RepairResult& r) {
  if (!h5::path_exists(file, kReason)) return;
  auto reason = h5::Dataset::open(file, kReason);
  if (reason.read_string() != kInProgress) return;
  reason.write_string("incomplete: the writer stopped without finishing (repaired)");
  r.done.push_back(fmt::format("{}: \"{}\" -> incomplete", kReason, kInProgress));
}

}  // namespace

RepairResult repair(const std::filesystem::path& path) {
  RepairResult r;
  bool plain = true;
  try {
    (void)h5::File::open(path, h5::File::Access::read_only);
  } catch (const h5::Error&) {
    plain = false;
  }
  if (!plain) {
    r.readable = h5::File::clear_status_flags(path);
    if (r.readable) r.done.push_back("cleared the status flags of a writer that died (h5clear -s)");
    if (!r.readable) return r;
  }
  r.readable = true;
  auto f = h5::File::open(path, h5::File::Access::read_write);
  mark_end(f.id(), r);
  add_view(f.id(), r);
  f.close();
  return r;
}

}  // namespace pandafly::dx
