#include "sim/kv_state_machine.h"

#include <cstring>

#include "base/assert.h"

namespace tri::sim {
namespace {

constexpr std::uint8_t kKvCommandTag = 0xC5;
constexpr std::size_t kEncodedSize = 1 + 4 + 8 + 1 + 4 + 8 + 8;

template <typename T>
void PutLe(std::string* out, T v) {
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    out->push_back(static_cast<char>((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xff));
  }
}

template <typename T>
T GetLe(const char* p) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  }
  return static_cast<T>(v);
}

}  // namespace

std::string EncodeKvCommand(const KvCommand& c) {
  std::string out;
  out.reserve(kEncodedSize);
  out.push_back(static_cast<char>(kKvCommandTag));
  PutLe<std::uint32_t>(&out, c.client_id);
  PutLe<std::uint64_t>(&out, c.seq);
  out.push_back(static_cast<char>(c.kind));
  PutLe<std::uint32_t>(&out, c.key);
  PutLe<std::int64_t>(&out, c.value);
  PutLe<std::int64_t>(&out, c.expected);
  TRI_ASSERT(out.size() == kEncodedSize);
  return out;
}

bool DecodeKvCommand(std::string_view bytes, KvCommand* out) {
  if (bytes.size() != kEncodedSize || static_cast<std::uint8_t>(bytes[0]) != kKvCommandTag) {
    return false;
  }
  const char* p = bytes.data() + 1;
  out->client_id = GetLe<std::uint32_t>(p);
  out->seq = GetLe<std::uint64_t>(p + 4);
  const auto kind = static_cast<std::uint8_t>(p[12]);
  if (kind > static_cast<std::uint8_t>(OpKind::kCas)) return false;
  out->kind = static_cast<OpKind>(kind);
  out->key = GetLe<std::uint32_t>(p + 13);
  out->value = GetLe<std::int64_t>(p + 17);
  out->expected = GetLe<std::int64_t>(p + 25);
  return true;
}

std::optional<KvResult> KvStateMachine::Apply(const KvCommand& command) {
  TRI_ASSERT(command.seq > 0);
  Session& session = sessions_[command.client_id];
  if (command.seq < session.last_seq) return std::nullopt;
  if (command.seq == session.last_seq) return session.last_result;
  KvResult result;
  switch (command.kind) {
    case OpKind::kPut:
      TRI_ASSERT(command.value != kAbsent);
      values_[command.key] = command.value;
      break;
    case OpKind::kGet:
      result.read_value = Get(command.key);
      break;
    case OpKind::kCas:
      TRI_ASSERT(command.value != kAbsent);
      if (Get(command.key) == command.expected) {
        values_[command.key] = command.value;
      } else {
        result.outcome = OpOutcome::kCasFailed;
      }
      break;
  }
  session.last_seq = command.seq;
  session.last_result = result;
  ++applied_commands_;
  return result;
}

KvValue KvStateMachine::Get(KvKey key) const {
  auto it = values_.find(key);
  return it == values_.end() ? kAbsent : it->second;
}

std::string KvStateMachine::Serialize() const {
  std::string out;
  PutLe<std::uint64_t>(&out, values_.size());
  for (const auto& [k, v] : values_) {
    PutLe<std::uint32_t>(&out, k);
    PutLe<std::int64_t>(&out, v);
  }
  PutLe<std::uint64_t>(&out, sessions_.size());
  for (const auto& [c, session] : sessions_) {
    PutLe<std::uint32_t>(&out, c);
    PutLe<std::uint64_t>(&out, session.last_seq);
    out.push_back(static_cast<char>(session.last_result.outcome));
    PutLe<std::int64_t>(&out, session.last_result.read_value);
  }
  PutLe<std::uint64_t>(&out, applied_commands_);
  return out;
}

bool KvStateMachine::Restore(std::string_view bytes) {
  if (bytes.empty()) {
    *this = KvStateMachine();
    return true;
  }
  KvStateMachine restored;
  std::size_t pos = 0;
  auto take = [&](std::size_t n) -> const char* {
    if (bytes.size() - pos < n) return nullptr;
    const char* p = bytes.data() + pos;
    pos += n;
    return p;
  };
  const char* p = take(8);
  if (p == nullptr) return false;
  const auto value_count = GetLe<std::uint64_t>(p);
  for (std::uint64_t i = 0; i < value_count; ++i) {
    if ((p = take(12)) == nullptr) return false;
    restored.values_[GetLe<std::uint32_t>(p)] = GetLe<std::int64_t>(p + 4);
  }
  if ((p = take(8)) == nullptr) return false;
  const auto session_count = GetLe<std::uint64_t>(p);
  for (std::uint64_t i = 0; i < session_count; ++i) {
    if ((p = take(4 + 8 + 1 + 8)) == nullptr) return false;
    Session& session = restored.sessions_[GetLe<std::uint32_t>(p)];
    session.last_seq = GetLe<std::uint64_t>(p + 4);
    const auto outcome = static_cast<std::uint8_t>(p[12]);
    if (outcome > static_cast<std::uint8_t>(OpOutcome::kCasFailed)) return false;
    session.last_result.outcome = static_cast<OpOutcome>(outcome);
    session.last_result.read_value = GetLe<std::int64_t>(p + 13);
  }
  if ((p = take(8)) == nullptr) return false;
  restored.applied_commands_ = GetLe<std::uint64_t>(p);
  if (pos != bytes.size()) return false;
  *this = std::move(restored);
  return true;
}

std::uint64_t KvStateMachine::Digest() const {
  std::uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](std::uint64_t v) { h = (h ^ v) * 1099511628211ULL; };
  for (const auto& [k, v] : values_) {
    mix(k);
    mix(static_cast<std::uint64_t>(v));
  }
  for (const auto& [c, s] : sessions_) {
    mix(c);
    mix(s.last_seq);
  }
  return h;
}

}  // namespace tri::sim
