#include "pandafly/panda/control_connection.hpp"

#include <algorithm>

namespace pandafly::panda {

void ControlConnection::emit(CommandId id, detail::Slot& slot, std::vector<Request> batch) {
  if (slot.finished()) {
    finish(id, slot);
    return;
  }
  slot.current = batch.empty() ? slot.current : printable(batch.front().line);
  for (const auto& r : batch) {
    if (auto why = r.problem()) {
      slot.fail({Errc::invalid_request, printable(r.line), *why});
      finish(id, slot);
      return;
    }
  }
  std::size_t bytes = 0;
  for (const auto& r : batch) bytes += r.encoded_size();
  output_.reserve(output_.size() + bytes);
  for (auto& r : batch) {
    r.encode_to(output_);
    waiting_.push_back({id, std::move(r)});
  }
  slot.expected = batch.size();
  slot.collected.clear();
}

void ControlConnection::finish(CommandId id, detail::Slot& slot) {
  if (slot.abandoned) {
    slots_.erase(id);
    return;
  }
  completed_.push_back(id);
}

std::string ControlConnection::take_output() {
  std::string out;
  out.swap(output_);
  return out;
}

std::error_code ControlConnection::receive(std::string_view bytes) {
  replies_.clear();
  const auto ec = parser_.feed(bytes, replies_);
  for (auto& reply : replies_) {
    if (waiting_.empty()) {
      fail_all(Errc::unexpected_reply, "the PandA sent a reply with no request waiting");
      return Errc::unexpected_reply;
    }
    on_reply(std::move(reply));
  }
  if (ec) {
    fail_all(Errc::malformed_reply, parser_.detail());
    return ec;
  }
  return {};
}

void ControlConnection::on_reply(Reply reply) {
  Waiting w = std::move(waiting_.front());
  waiting_.pop_front();
  auto it = slots_.find(w.id);
  if (it == slots_.end()) return;
  auto& slot = *it->second;
  slot.collected.push_back({std::move(w.request), std::move(reply)});
  if (slot.collected.size() < slot.expected) return;
  if (slot.abandoned) {
    slots_.erase(it);
    return;
  }
  auto exchanges = std::move(slot.collected);
  slot.collected.clear();
  emit(w.id, slot, slot.advance(exchanges));
}

std::vector<CommandId> ControlConnection::take_completed() {
  std::vector<CommandId> out;
  out.swap(completed_);
  return out;
}

bool ControlConnection::finished(CommandId id) const {
  auto it = slots_.find(id);
  return it != slots_.end() && it->second->finished();
}

void ControlConnection::abandon(CommandId id) {
  auto it = slots_.find(id);
  if (it == slots_.end()) return;
  if (it->second->finished()) {
    slots_.erase(it);
    std::erase(completed_, id);
    return;
  }
  it->second->abandoned = true;
}

void ControlConnection::fail_all(Errc code, std::string_view why) {
  detail_ = std::string(why);
  waiting_.clear();
  output_.clear();
  parser_.reset();
  std::vector<CommandId> gone;
  for (auto& [id, slot] : slots_) {
    if (slot->finished()) continue;
    if (slot->abandoned) {
      gone.push_back(id);
      continue;
    }
    slot->fail({code, slot->current, std::string(why)});
    completed_.push_back(id);
  }
  for (const auto id : gone) slots_.erase(id);
}

}  // namespace pandafly::panda
