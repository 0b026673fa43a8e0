#include "pandafly/util/progress.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iterator>

#include <fmt/format.h>
#include <unistd.h>

namespace pandafly::util {

// ------------------------------------------------------------------ meter

ProgressView ProgressMeter::update(const ProgressSnapshot& s, double now_s) {
  if (!start_s_) start_s_ = now_s;
  if (!samples_.empty() && s.done < samples_.back().second) samples_.clear();  // a new phase
  samples_.emplace_back(now_s, s.done);
  // Keep the newest sample that is at least a window old as the reference.
  while (samples_.size() >= 2 && samples_[1].first <= now_s - window_s_) samples_.pop_front();
  ProgressView v{.snapshot = s, .rate = {}, .eta_s = {}, .elapsed_s = now_s - *start_s_};
  const auto& [t0, done0] = samples_.front();
  if (now_s > t0) v.rate = static_cast<double>(s.done - done0) / (now_s - t0);
  if (s.total > 0 && s.done >= s.total) {
    v.eta_s = 0.0;
  } else if (s.total > 0 && v.rate && *v.rate > 0) {
    v.eta_s = static_cast<double>(s.total - s.done) / *v.rate;
  }
  return v;
}

// ------------------------------------------------------------------ formatting

std::string format_duration(std::optional<double> seconds) {
  if (!seconds || !std::isfinite(*seconds) || *seconds < 0 || *seconds > 1e7) return "--";
  const auto total = static_cast<long long>(std::llround(*seconds));
  if (total < 60) return fmt::format("{} s", total);
  const long long h = total / 3600;
  const long long m = (total / 60) % 60;
  const long long sec = total % 60;
  if (h == 0) return fmt::format("{}:{:02}", m, sec);
  return fmt::format("{}:{:02}:{:02}", h, m, sec);
}

namespace {

std::optional<std::uint64_t> percent(const ProgressSnapshot& s) {
  if (s.total == 0) return std::nullopt;
  return std::min<std::uint64_t>(100, s.done * 100 / s.total);
}

std::string count_text(const ProgressSnapshot& s) {
  if (s.total == 0) return fmt::format("{}", s.done);
  return fmt::format("{}/{}", s.done, s.total);
}

std::string rate_text(const std::optional<double>& rate) {
  return rate ? fmt::format("{:.1f}", *rate) : std::string("--");
}

// The bar's numbers: "  123/360  34%  61.520 deg  250.0/s  0 drops  ETA 0:01".
std::string bar_numbers(const ProgressView& v) {
  const auto& s = v.snapshot;
  std::string out = "  " + count_text(s);
  if (auto p = percent(s)) fmt::format_to(std::back_inserter(out), "  {:3}%", *p);
  if (s.angle) fmt::format_to(std::back_inserter(out), "  {:.3f} deg", *s.angle);
  fmt::format_to(std::back_inserter(out), "  {}/s  {} drops  ETA {}", rate_text(v.rate), s.drops,
                 format_duration(v.eta_s));
  return out;
}

}  // namespace

std::string format_bar(const ProgressView& v, std::size_t columns) {
  const std::string label = v.snapshot.phase.empty() ? "" : v.snapshot.phase + " ";
  const std::string numbers = bar_numbers(v);
  // A fixed-width bar, so that it does not jump as the numbers change length.
  constexpr std::size_t width = 20;
  std::string out = label;
  if (columns >= label.size() + width + 2 + numbers.size() && v.snapshot.total > 0) {
    const std::size_t filled = static_cast<std::size_t>(
        std::min(v.snapshot.done, v.snapshot.total) * width / v.snapshot.total);
    out += '[';
    out.append(filled, '#');
    out.append(width - filled, '-');
    out += ']';
    out += numbers;
  } else {
    out += numbers.substr(2);  // no bar: drop the separating blanks
  }
  if (out.size() > columns) out.resize(columns);
  return out;
}

std::string format_plain(const ProgressView& v) {
  const auto& s = v.snapshot;
  std::string out = "progress: ";
  if (!s.phase.empty()) out += s.phase + " ";
  out += count_text(s);
  if (auto p = percent(s)) fmt::format_to(std::back_inserter(out), " ({}%)", *p);
  if (s.angle) fmt::format_to(std::back_inserter(out), ", angle {:.3f} deg", *s.angle);
  fmt::format_to(std::back_inserter(out), ", {} projections/s, {} drops, elapsed {}, ETA {}",
                 rate_text(v.rate), s.drops, format_duration(v.elapsed_s),
                 format_duration(v.eta_s));
  return out;
}

// ------------------------------------------------------------------ writer

namespace {

std::size_t terminal_columns(std::size_t configured) {
  if (configured > 0) return configured;
  if (const char* env = std::getenv("COLUMNS")) {
    const long n = std::strtol(env, nullptr, 10);
    if (n >= 20 && n <= 1000) return static_cast<std::size_t>(n);
  }
  return 80;
}

ProgressMode resolve(std::FILE* out, ProgressMode mode) {
  if (out == nullptr) return ProgressMode::quiet;
  if (mode != ProgressMode::automatic) return mode;
  const int fd = ::fileno(out);
  return fd >= 0 && ::isatty(fd) != 0 ? ProgressMode::terminal : ProgressMode::plain;
}

}  // namespace

ProgressWriter::ProgressWriter(std::FILE* out, ProgressMode mode, ProgressWriterOptions options)
    : out_(out),
      mode_(resolve(out, mode)),
      options_(options),
      meter_(options.window_s),
      columns_(terminal_columns(options.columns)) {}

void ProgressWriter::update(const ProgressSnapshot& s, Clock::time_point now) {
  if (mode_ == ProgressMode::quiet) return;
  if (!origin_) origin_ = now;
  const double now_s = std::chrono::duration<double>(now - *origin_).count();
  const auto view = meter_.update(s, now_s);
  const double every = mode_ == ProgressMode::terminal ? options_.redraw_s : options_.interval_s;
  // Plain lines start one interval in (short runs print only their finish line);
  // the terminal bar appears at once.
  const double last = last_write_s_.value_or(mode_ == ProgressMode::terminal ? -every : 0.0);
  if (now_s - last < every) return;
  last_write_s_ = now_s;
  write(view);
}

void ProgressWriter::finish(const ProgressSnapshot& s, Clock::time_point now) {
  if (mode_ == ProgressMode::quiet) return;
  if (!origin_) origin_ = now;
  write(meter_.update(s, std::chrono::duration<double>(now - *origin_).count()));
  if (mode_ == ProgressMode::terminal) std::fputc('\n', out_);
  std::fflush(out_);
}

void ProgressWriter::write(const ProgressView& v) {
  if (mode_ == ProgressMode::terminal) {
    // One column short of the width: a line that fills it wraps on some terminals.
    std::fprintf(out_, "\r%s\x1b[K", format_bar(v, columns_ - 1).c_str());
  } else {
    std::fprintf(out_, "%s\n", format_plain(v).c_str());
  }
  std::fflush(out_);
}

}  // namespace pandafly::util
