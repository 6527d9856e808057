// Orchestrator::Serialize / Restore. Format (version 2), little-endian:
//
//   u32 magic "TRSO" | u32 version | u64 plan fingerprint | u32 steps
//   u8 phase | u8 outcome | u8 stop cause
//   i64 started_ns | i64 finished_ns | i64 last_now_ns
//   u32 forward_unfinished | u32 comp_unfinished | u32 running | u32 in_flight
//   u32 max_parallelism | i64 busy_ns | u64 attempts | u64 comp_attempts | u64 stale
//   u32 x6 counters (succeeded, failed, timed_out, cancelled, compensated, compensation_failed)
//   per step: u32 pending | u32 attempt | u32 comp_attempt | i32 last_code | u8 state |
//             u8 forward_state | u8 in_comp_set | u8 attempt_running | u8 attempt_started |
//             u8 ever_started | i64 first_scheduled | i64 first_start | i64 attempt_scheduled |
//             i64 attempt_start | i64 end | i64 retry_at
//   strings: u32 count, then (u32 step, u32 length, bytes) — outputs, then messages
//   u32 comp_before_offsets count + values | u32 comp_before count + values
//
// Version 2 (scheduled vs started attempts) added attempt_started,
// ever_started, first_scheduled, attempt_scheduled and retry_at (the backoff
// timer's fire time, so that PendingTimers can re-arm it); version 1 is refused.
//
// Armed timers are not stored as such: a timer id encodes (kind, step,
// attempt) and is validated against the step state when it fires, so the
// per-step state is the whole timer state. The counters after the header are
// derived from the per-step state; Restore recomputes and compares them
// (CheckState, orchestrator_check.cc).

#include <type_traits>

#include "base/assert.h"
#include "base/coding.h"
#include "saga/orchestrator.h"

namespace tri::saga {
namespace {

constexpr std::uint32_t kMagic = 0x4f535254;  // "TRSO"
constexpr std::uint32_t kVersion = 2;

// Fixed-width little-endian integers of the widths the format uses (1, 4 or 8 bytes),
// signed ones as their two's-complement bits.
template <typename T>
void Put(std::string& out, T value) {
  static_assert(std::is_integral_v<T>);
  const auto bits = static_cast<std::make_unsigned_t<T>>(value);
  if constexpr (sizeof(T) == 1) {
    coding::PutFixed8(out, bits);
  } else if constexpr (sizeof(T) == 4) {
    coding::PutFixed32(out, bits);
  } else {
    static_assert(sizeof(T) == 8);
    coding::PutFixed64(out, bits);
  }
}

template <typename T>
bool Get(coding::Decoder& in, T& value) {
  static_assert(std::is_integral_v<T>);
  if constexpr (sizeof(T) == 1) {
    std::uint8_t bits = 0;
    if (!in.ReadFixed8(bits)) return false;
    value = static_cast<T>(bits);
  } else if constexpr (sizeof(T) == 4) {
    std::uint32_t bits = 0;
    if (!in.ReadFixed32(bits)) return false;
    value = static_cast<T>(bits);
  } else {
    static_assert(sizeof(T) == 8);
    std::uint64_t bits = 0;
    if (!in.ReadFixed64(bits)) return false;
    value = static_cast<T>(bits);
  }
  return true;
}

// u32 length, then the bytes.
void PutBytes(std::string& out, const std::string& s) {
  Put(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

bool GetBytes(coding::Decoder& in, std::string& s) {
  std::uint32_t len = 0;
  std::string_view bytes;
  if (!Get(in, len) || !in.ReadBytes(len, bytes)) return false;
  s.assign(bytes);
  return true;
}

void PutStrings(std::string& out, const std::vector<std::string>& strings) {
  std::uint32_t count = 0;
  for (const auto& s : strings)
    count += s.empty() ? 0 : 1;
  Put(out, count);
  for (std::uint32_t i = 0; i < strings.size(); ++i) {
    if (strings[i].empty()) continue;
    Put(out, i);
    PutBytes(out, strings[i]);
  }
}

bool GetStrings(coding::Decoder& r, std::uint32_t n, std::vector<std::string>& strings) {
  std::uint32_t count = 0;
  if (!Get(r, count) || count > n) return false;
  strings.clear();
  if (count > 0) strings.resize(n);
  std::uint32_t previous = 0;
  for (std::uint32_t k = 0; k < count; ++k) {
    std::uint32_t index = 0;
    if (!Get(r, index) || index >= n || (k > 0 && index <= previous)) return false;
    if (!GetBytes(r, strings[index]) || strings[index].empty()) return false;
    previous = index;
  }
  return true;
}

template <typename T>
bool GetVector(coding::Decoder& r, std::vector<T>& v, std::size_t max_count) {
  std::uint32_t count = 0;
  if (!Get(r, count) || count > max_count || count * sizeof(T) > r.remaining()) return false;
  v.resize(count);
  for (auto& x : v) {
    if (!Get(r, x)) return false;
  }
  return true;
}

}  // namespace

std::string Orchestrator::Serialize() const {
  std::string out;
  out.reserve(128 + steps_.size() * 48);
  Put(out, kMagic);
  Put(out, kVersion);
  Put(out, plan_->fingerprint());
  Put(out, static_cast<std::uint32_t>(steps_.size()));
  Put(out, static_cast<std::uint8_t>(phase_));
  Put(out, static_cast<std::uint8_t>(outcome_));
  Put(out, static_cast<std::uint8_t>(stop_cause_));
  Put(out, started_ns_);
  Put(out, finished_ns_);
  Put(out, last_now_ns_);
  Put(out, forward_unfinished_);
  Put(out, comp_unfinished_);
  Put(out, running_);
  Put(out, in_flight_);
  Put(out, max_parallelism_);
  Put(out, busy_ns_);
  Put(out, attempts_total_);
  Put(out, comp_attempts_total_);
  Put(out, stale_ignored_);
  for (std::uint32_t c : {count_succeeded_, count_failed_, count_timed_out_, count_cancelled_,
                          count_compensated_, count_compensation_failed_}) {
    Put(out, c);
  }
  for (StepIndex s = 0; s < steps_.size(); ++s) {
    const StepRuntime& st = steps_[s];
    Put(out, pending_[s]);
    Put(out, st.attempt);
    Put(out, st.comp_attempt);
    Put(out, static_cast<std::int32_t>(st.last_code));
    Put(out, static_cast<std::uint8_t>(st.state));
    Put(out, static_cast<std::uint8_t>(st.forward_state));
    Put(out, static_cast<std::uint8_t>(st.in_comp_set));
    Put(out, static_cast<std::uint8_t>(st.attempt_running));
    Put(out, static_cast<std::uint8_t>(st.attempt_started));
    Put(out, static_cast<std::uint8_t>(st.ever_started));
    Put(out, st.first_scheduled_ns);
    Put(out, st.first_start_ns);
    Put(out, st.attempt_scheduled_ns);
    Put(out, st.attempt_start_ns);
    Put(out, st.end_ns);
    Put(out, st.retry_at_ns);
  }
  PutStrings(out, outputs_);
  PutStrings(out, messages_);
  Put(out, static_cast<std::uint32_t>(comp_before_offsets_.size()));
  for (std::uint32_t v : comp_before_offsets_)
    Put(out, v);
  Put(out, static_cast<std::uint32_t>(comp_before_.size()));
  for (StepIndex v : comp_before_)
    Put(out, v);
  return out;
}

Status Orchestrator::Restore(std::string_view bytes) {
  coding::Decoder r(bytes);
  const auto corrupt = [](const char* what) {
    return Corruption(std::string("orchestrator state: ") + what);
  };
  std::uint32_t magic = 0, version = 0, n = 0;
  std::uint64_t fingerprint = 0;
  if (!Get(r, magic) || magic != kMagic) return corrupt("bad magic");
  if (!Get(r, version)) return corrupt("truncated header");
  if (version != kVersion) {
    return FailedPrecondition("orchestrator state: unsupported version " + std::to_string(version));
  }
  if (!Get(r, fingerprint) || !Get(r, n)) return corrupt("truncated header");
  if (fingerprint != plan_->fingerprint() || n != steps_.size()) {
    return FailedPrecondition("orchestrator state: serialized for a different plan");
  }

  // Decode into a scratch orchestrator so that an error leaves *this unchanged.
  Orchestrator next(plan_, *rng_, options_);
  std::uint8_t phase = 0, outcome = 0, cause = 0;
  if (!Get(r, phase) || !Get(r, outcome) || !Get(r, cause)) return corrupt("truncated");
  if (phase > static_cast<std::uint8_t>(Phase::kFinished) ||
      outcome > static_cast<std::uint8_t>(SagaOutcome::kFailed) ||
      cause > static_cast<std::uint8_t>(StopCause::kAbort)) {
    return corrupt("enum out of range");
  }
  next.phase_ = static_cast<Phase>(phase);
  next.outcome_ = static_cast<SagaOutcome>(outcome);
  next.stop_cause_ = static_cast<StopCause>(cause);
  bool ok = Get(r, next.started_ns_) && Get(r, next.finished_ns_) && Get(r, next.last_now_ns_) &&
            Get(r, next.forward_unfinished_) && Get(r, next.comp_unfinished_) &&
            Get(r, next.running_) && Get(r, next.in_flight_) && Get(r, next.max_parallelism_) &&
            Get(r, next.busy_ns_) && Get(r, next.attempts_total_) &&
            Get(r, next.comp_attempts_total_) && Get(r, next.stale_ignored_) &&
            Get(r, next.count_succeeded_) && Get(r, next.count_failed_) &&
            Get(r, next.count_timed_out_) && Get(r, next.count_cancelled_) &&
            Get(r, next.count_compensated_) && Get(r, next.count_compensation_failed_);
  if (!ok) return corrupt("truncated counters");
  if (next.forward_unfinished_ > n || next.comp_unfinished_ > n || next.running_ > n ||
      next.in_flight_ > n || next.running_ > next.in_flight_) {
    return corrupt("counter out of range");
  }
  for (StepIndex s = 0; s < n; ++s) {
    StepRuntime& st = next.steps_[s];
    std::int32_t code = 0;
    std::uint8_t state = 0, forward_state = 0, in_set = 0, running = 0, started = 0, ever = 0;
    ok = Get(r, next.pending_[s]) && Get(r, st.attempt) && Get(r, st.comp_attempt) &&
         Get(r, code) && Get(r, state) && Get(r, forward_state) && Get(r, in_set) &&
         Get(r, running) && Get(r, started) && Get(r, ever) && Get(r, st.first_scheduled_ns) &&
         Get(r, st.first_start_ns) && Get(r, st.attempt_scheduled_ns) &&
         Get(r, st.attempt_start_ns) && Get(r, st.end_ns) && Get(r, st.retry_at_ns);
    if (!ok) return corrupt("truncated step");
    if (next.pending_[s] > n) return corrupt("pending count out of range");
    if (state > static_cast<std::uint8_t>(StepState::kCompensationFailed) ||
        forward_state > static_cast<std::uint8_t>(StepState::kCancelled) || in_set > 1 ||
        running > 1 || started > 1 || ever > 1) {
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
    st.attempt_started = started != 0;
    st.ever_started = ever != 0;
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
  TRI_RETURN_IF_ERROR(next.CheckState());

  // Keep this instance's trace buffer (trace records are output, not state).
  next.trace_ = std::move(trace_);
  *this = std::move(next);
  return Status::Ok();
}

}  // namespace tri::saga
