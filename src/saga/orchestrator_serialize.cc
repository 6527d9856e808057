// Orchestrator::Serialize / Restore. Format (version 1), little-endian:
//
//   u32 magic "TRSO" | u32 version | u64 plan fingerprint | u32 steps
//   u8 phase | u8 outcome | u8 stop cause
//   i64 started_ns | i64 finished_ns | i64 last_now_ns
//   u32 forward_unfinished | u32 comp_unfinished | u32 running | u32 in_flight
//   u32 max_parallelism | i64 busy_ns | u64 attempts | u64 comp_attempts | u64 stale
//   u32 x6 counters (succeeded, failed, timed_out, cancelled, compensated, compensation_failed)
//   per step: u32 pending | u32 attempt | u32 comp_attempt | i32 last_code | u8 state |
//             u8 forward_state | u8 in_comp_set | u8 attempt_running | i64 first_start | i64
//             attempt_start | i64 end
//   strings: u32 count, then (u32 step, u32 length, bytes) — outputs, then messages
//   u32 comp_before_offsets count + values | u32 comp_before count + values
//
// Armed timers are not stored as such: a timer id encodes (kind, step,
// attempt) and is validated against the step state when it fires, so the
// per-step state is the whole timer state.

#include <bit>
#include <cstring>
#include <type_traits>

#include "base/assert.h"
#include "saga/orchestrator.h"

namespace tri::saga {
namespace {

static_assert(std::endian::native == std::endian::little, "serialization assumes little-endian");

constexpr std::uint32_t kMagic = 0x4f535254;  // "TRSO"
constexpr std::uint32_t kVersion = 1;

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  template <typename T>
  void Put(T value) {
    static_assert(std::is_trivially_copyable_v<T>);
    char buf[sizeof(T)];
    std::memcpy(buf, &value, sizeof(T));
    out_.append(buf, sizeof(T));
  }
  void Bytes(const std::string& s) {
    Put<std::uint32_t>(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
  }

 private:
  std::string& out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <typename T>
  bool Get(T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (in_.size() - pos_ < sizeof(T)) return false;
    std::memcpy(&value, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool Bytes(std::string& s) {
    std::uint32_t len = 0;
    if (!Get(len) || in_.size() - pos_ < len) return false;
    s.assign(in_.data() + pos_, len);
    pos_ += len;
    return true;
  }
  bool done() const { return pos_ == in_.size(); }
  std::size_t remaining() const { return in_.size() - pos_; }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

void PutStrings(Writer& w, const std::vector<std::string>& strings) {
  std::uint32_t count = 0;
  for (const auto& s : strings)
    count += s.empty() ? 0 : 1;
  w.Put(count);
  for (std::uint32_t i = 0; i < strings.size(); ++i) {
    if (strings[i].empty()) continue;
    w.Put(i);
    w.Bytes(strings[i]);
  }
}

bool GetStrings(Reader& r, std::uint32_t n, std::vector<std::string>& strings) {
  std::uint32_t count = 0;
  if (!r.Get(count) || count > n) return false;
  strings.clear();
  if (count > 0) strings.resize(n);
  std::uint32_t previous = 0;
  for (std::uint32_t k = 0; k < count; ++k) {
    std::uint32_t index = 0;
    if (!r.Get(index) || index >= n || (k > 0 && index <= previous)) return false;
    if (!r.Bytes(strings[index]) || strings[index].empty()) return false;
    previous = index;
  }
  return true;
}

template <typename T>
bool GetVector(Reader& r, std::vector<T>& v, std::size_t max_count) {
  std::uint32_t count = 0;
  if (!r.Get(count) || count > max_count || count * sizeof(T) > r.remaining()) return false;
  v.resize(count);
  for (auto& x : v) {
    if (!r.Get(x)) return false;
  }
  return true;
}

}  // namespace

std::string Orchestrator::Serialize() const {
  std::string bytes;
  bytes.reserve(128 + steps_.size() * 48);
  Writer w(bytes);
  w.Put(kMagic);
  w.Put(kVersion);
  w.Put(plan_->fingerprint());
  w.Put(static_cast<std::uint32_t>(steps_.size()));
  w.Put(static_cast<std::uint8_t>(phase_));
  w.Put(static_cast<std::uint8_t>(outcome_));
  w.Put(static_cast<std::uint8_t>(stop_cause_));
  w.Put(started_ns_);
  w.Put(finished_ns_);
  w.Put(last_now_ns_);
  w.Put(forward_unfinished_);
  w.Put(comp_unfinished_);
  w.Put(running_);
  w.Put(in_flight_);
  w.Put(max_parallelism_);
  w.Put(busy_ns_);
  w.Put(attempts_total_);
  w.Put(comp_attempts_total_);
  w.Put(stale_ignored_);
  for (std::uint32_t c : {count_succeeded_, count_failed_, count_timed_out_, count_cancelled_,
                          count_compensated_, count_compensation_failed_}) {
    w.Put(c);
  }
  for (StepIndex s = 0; s < steps_.size(); ++s) {
    const StepRuntime& st = steps_[s];
    w.Put(pending_[s]);
    w.Put(st.attempt);
    w.Put(st.comp_attempt);
    w.Put(static_cast<std::int32_t>(st.last_code));
    w.Put(static_cast<std::uint8_t>(st.state));
    w.Put(static_cast<std::uint8_t>(st.forward_state));
    w.Put(static_cast<std::uint8_t>(st.in_comp_set));
    w.Put(static_cast<std::uint8_t>(st.attempt_running));
    w.Put(st.first_start_ns);
    w.Put(st.attempt_start_ns);
    w.Put(st.end_ns);
  }
  PutStrings(w, outputs_);
  PutStrings(w, messages_);
  w.Put(static_cast<std::uint32_t>(comp_before_offsets_.size()));
  for (std::uint32_t v : comp_before_offsets_)
    w.Put(v);
  w.Put(static_cast<std::uint32_t>(comp_before_.size()));
  for (StepIndex v : comp_before_)
    w.Put(v);
  return bytes;
}

Status Orchestrator::Restore(std::string_view bytes) {
  Reader r(bytes);
  const auto corrupt = [](const char* what) {
    return Corruption(std::string("orchestrator state: ") + what);
  };
  std::uint32_t magic = 0, version = 0, n = 0;
  std::uint64_t fingerprint = 0;
  if (!r.Get(magic) || magic != kMagic) return corrupt("bad magic");
  if (!r.Get(version)) return corrupt("truncated header");
  if (version != kVersion) {
    return FailedPrecondition("orchestrator state: unsupported version " + std::to_string(version));
  }
  if (!r.Get(fingerprint) || !r.Get(n)) return corrupt("truncated header");
  if (fingerprint != plan_->fingerprint() || n != steps_.size()) {
    return FailedPrecondition("orchestrator state: serialized for a different plan");
  }

  // Decode into a scratch orchestrator so that an error leaves *this unchanged.
  Orchestrator next(plan_, *rng_, options_);
  std::uint8_t phase = 0, outcome = 0, cause = 0;
  if (!r.Get(phase) || !r.Get(outcome) || !r.Get(cause)) return corrupt("truncated");
  if (phase > static_cast<std::uint8_t>(Phase::kFinished) ||
      outcome > static_cast<std::uint8_t>(SagaOutcome::kFailed) ||
      cause > static_cast<std::uint8_t>(StopCause::kAbort)) {
    return corrupt("enum out of range");
  }
  next.phase_ = static_cast<Phase>(phase);
  next.outcome_ = static_cast<SagaOutcome>(outcome);
  next.stop_cause_ = static_cast<StopCause>(cause);
  bool ok = r.Get(next.started_ns_) && r.Get(next.finished_ns_) && r.Get(next.last_now_ns_) &&
            r.Get(next.forward_unfinished_) && r.Get(next.comp_unfinished_) &&
            r.Get(next.running_) && r.Get(next.in_flight_) && r.Get(next.max_parallelism_) &&
            r.Get(next.busy_ns_) && r.Get(next.attempts_total_) &&
            r.Get(next.comp_attempts_total_) && r.Get(next.stale_ignored_) &&
            r.Get(next.count_succeeded_) && r.Get(next.count_failed_) &&
            r.Get(next.count_timed_out_) && r.Get(next.count_cancelled_) &&
            r.Get(next.count_compensated_) && r.Get(next.count_compensation_failed_);
  if (!ok) return corrupt("truncated counters");
  if (next.forward_unfinished_ > n || next.comp_unfinished_ > n || next.running_ > n ||
      next.in_flight_ > n || next.running_ > next.in_flight_) {
    return corrupt("counter out of range");
  }
  for (StepIndex s = 0; s < n; ++s) {
    StepRuntime& st = next.steps_[s];
    std::int32_t code = 0;
    std::uint8_t state = 0, forward_state = 0, in_set = 0, running = 0;
    ok = r.Get(next.pending_[s]) && r.Get(st.attempt) && r.Get(st.comp_attempt) && r.Get(code) &&
         r.Get(state) && r.Get(forward_state) && r.Get(in_set) && r.Get(running) &&
         r.Get(st.first_start_ns) && r.Get(st.attempt_start_ns) && r.Get(st.end_ns);
    if (!ok) return corrupt("truncated step");
    if (next.pending_[s] > n) return corrupt("pending count out of range");
    if (state > static_cast<std::uint8_t>(StepState::kCompensationFailed) ||
        forward_state > static_cast<std::uint8_t>(StepState::kCancelled) || in_set > 1 ||
        running > 1) {
      return corrupt("step enum out of range");
    }
    if (st.attempt > plan_->retry(s).max_attempts ||
        st.comp_attempt > plan_->compensate_retry(s).max_attempts) {
      return corrupt("attempt beyond the plan's max_attempts");
    }
    st.last_code = code;
    st.state = static_cast<StepState>(state);
    st.forward_state = static_cast<StepState>(forward_state);
    st.in_comp_set = in_set != 0;
    st.attempt_running = running != 0;
  }
  if (!GetStrings(r, n, next.outputs_) || !GetStrings(r, n, next.messages_)) {
    return corrupt("bad strings");
  }
  if (!GetVector(r, next.comp_before_offsets_, std::size_t{n} + 1) ||
      !GetVector(r, next.comp_before_, std::size_t{1} << 32)) {
    return corrupt("bad compensation order");
  }
  if (!next.comp_before_offsets_.empty()) {
    if (next.comp_before_offsets_.size() != std::size_t{n} + 1 ||
        next.comp_before_offsets_.back() != next.comp_before_.size()) {
      return corrupt("bad compensation offsets");
    }
    for (std::size_t i = 1; i < next.comp_before_offsets_.size(); ++i) {
      if (next.comp_before_offsets_[i] < next.comp_before_offsets_[i - 1]) {
        return corrupt("compensation offsets not monotone");
      }
    }
    for (StepIndex a : next.comp_before_) {
      if (a >= n) return corrupt("compensation order names an unknown step");
    }
  }
  if (!r.done()) return corrupt("trailing bytes");

  // Keep this instance's trace buffer (trace records are output, not state).
  next.trace_ = std::move(trace_);
  *this = std::move(next);
  return Status::Ok();
}

}  // namespace tri::saga
