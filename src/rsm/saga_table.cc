#include "rsm/saga_table.h"

#include <algorithm>
#include <utility>

#include "base/assert.h"
#include "saga/dsl/parser.h"
#include "saga/saga_id.h"

namespace tri::rsm {

namespace {

constexpr std::string_view kSagaTableMagic = "SAGATBL1";

TimePoint ToTime(std::uint64_t ms) {
  return TimePoint(static_cast<std::int64_t>(ms) * 1'000'000);
}

std::uint64_t ToMsCeil(TimePoint t) {
  const std::int64_t ns = t.count();
  if (ns <= 0) return 0;
  return static_cast<std::uint64_t>((ns + 999'999) / 1'000'000);
}

// The backoff jitter of a saga is drawn from a generator seeded by its id:
// the same on every replica, different between sagas.
std::uint64_t SeedFor(std::string_view saga_id) {
  std::uint64_t hash = 14695981039346656037ull;  // FNV-1a 64
  for (const char c : saga_id) {
    hash ^= static_cast<std::uint8_t>(c);
    hash *= 1099511628211ull;
  }
  return hash;
}

KvError Invalid(std::string message) {
  return KvError{GrpcCode::kInvalidArgument, std::move(message)};
}
KvError NotFoundError(std::string message) {
  return KvError{GrpcCode::kNotFound, std::move(message)};
}

Result<std::shared_ptr<const saga::SagaDefinition>> ParseDefinition(
    std::string_view document, std::string_view source_name, const saga::SagaLimits& limits) {
  TRI_ASSIGN_OR_RETURN(saga::SagaSpec spec, saga::ParseSaga(document, source_name, limits));
  return saga::SagaDefinition::Make(std::move(spec));
}

}  // namespace

SagaTable::SagaTable(SagaOptions options) : options_(std::move(options)) {}

KvOr<SagaReply> SagaTable::Apply(std::uint64_t index, std::uint64_t now_ms,
                                 const SagaCommand& command) {
  return std::visit(
      [&](const auto& c) -> KvOr<SagaReply> {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, SagaDefineCommand>) {
          return ApplyDefine(c);
        } else if constexpr (std::is_same_v<T, SagaStartCommand>) {
          return ApplyStart(now_ms, c);
        } else if constexpr (std::is_same_v<T, SagaAbortCommand>) {
          return ApplyAbort(now_ms, c);
        } else {
          return ApplyInputs(index, now_ms, c);
        }
      },
      command);
}

// --- definitions ------------------------------------------------------------

KvOr<SagaReply> SagaTable::ApplyDefine(const SagaDefineCommand& c) {
  auto parsed = ParseDefinition(c.document, c.source_name, options_.limits);
  if (!parsed.ok()) return Invalid(parsed.status().message());
  const std::string& name = (*parsed)->spec.name;
  auto& versions = definitions_[name];
  SagaReply reply;
  reply.name = name;
  if (!versions.empty() && versions.rbegin()->second->document == c.document) {
    reply.version = versions.rbegin()->first;
    reply.already_existed = true;
    return reply;
  }
  if (definition_count_ >= options_.max_definitions) {
    if (versions.empty()) definitions_.erase(name);
    return KvError{GrpcCode::kResourceExhausted, "too many saga definitions (the limit is " +
                                                     std::to_string(options_.max_definitions) +
                                                     ")"};
  }
  auto entry = std::make_shared<SagaDefinitionEntry>();
  entry->name = name;
  entry->version = versions.empty() ? 1 : versions.rbegin()->first + 1;
  entry->document = c.document;
  entry->source_name = c.source_name;
  entry->definition = std::move(parsed).value();
  reply.version = entry->version;
  versions.emplace(entry->version, std::move(entry));
  ++definition_count_;
  return reply;
}

const SagaDefinitionEntry* SagaTable::FindDefinition(std::string_view name,
                                                     std::uint32_t version) const {
  auto it = definitions_.find(name);
  if (it == definitions_.end() || it->second.empty()) return nullptr;
  if (version == 0) return it->second.rbegin()->second.get();
  auto v = it->second.find(version);
  return v == it->second.end() ? nullptr : v->second.get();
}

// --- instances --------------------------------------------------------------

KvOr<SagaReply> SagaTable::ApplyStart(std::uint64_t now_ms, const SagaStartCommand& c) {
  if (Status s = saga::ValidateSagaId(c.saga_id); !s.ok()) return Invalid(s.message());
  SagaReply reply;
  reply.saga_id = c.saga_id;
  if (sagas_.find(c.saga_id) != sagas_.end()) {
    reply.already_existed = true;
    return reply;
  }
  std::shared_ptr<const SagaDefinitionEntry> definition;
  if (!c.inline_document.empty()) {
    auto parsed = ParseDefinition(c.inline_document, "inline", options_.limits);
    if (!parsed.ok()) return Invalid(parsed.status().message());
    auto entry = std::make_shared<SagaDefinitionEntry>();
    entry->name = (*parsed)->spec.name;
    entry->document = c.inline_document;
    entry->source_name = "inline";
    entry->definition = std::move(parsed).value();
    definition = std::move(entry);
  } else {
    auto it = definitions_.find(c.definition_name);
    if (it == definitions_.end() || it->second.empty()) {
      return NotFoundError("unknown saga definition '" + c.definition_name + "'");
    }
    auto& versions = it->second;
    if (c.definition_version == 0) {
      definition = versions.rbegin()->second;
    } else if (auto v = versions.find(c.definition_version); v != versions.end()) {
      definition = v->second;
    } else {
      return NotFoundError("saga definition '" + c.definition_name + "' has no version " +
                           std::to_string(c.definition_version) +
                           " (newest: " + std::to_string(versions.rbegin()->first) + ")");
    }
  }
  saga::SagaInputs given;
  for (const auto& [name, value] : c.inputs) {
    if (!given.emplace(name, value).second) return Invalid("input '" + name + "' given twice");
  }
  auto inputs = saga::ResolveInputs(definition->definition->spec, given);
  if (!inputs.ok()) return Invalid(inputs.status().message());
  if (running_.size() >= options_.max_running_sagas) {
    return KvError{
        GrpcCode::kResourceExhausted,
        "too many running sagas (the limit is " + std::to_string(options_.max_running_sagas) + ")"};
  }

  auto instance = std::make_unique<SagaInstance>();
  instance->id = c.saga_id;
  instance->definition = std::move(definition);
  instance->inputs = std::move(inputs).value();
  instance->created_ms = now_ms;
  instance->rng = std::make_unique<SeededRng>(SeedFor(c.saga_id));
  instance->orchestrator = std::make_unique<saga::Orchestrator>(
      instance->def().plan, *instance->rng, saga::OrchestratorOptions{.trace = true});
  SagaInstance& ref = *instance;
  sagas_.emplace(c.saga_id, std::move(instance));
  running_.insert(c.saga_id);
  commands_.clear();
  ref.orchestrator->Start(ToTime(now_ms), commands_);
  AfterInput(ref, now_ms);
  return reply;
}

KvOr<SagaReply> SagaTable::ApplyAbort(std::uint64_t now_ms, const SagaAbortCommand& c) {
  SagaInstance* instance = FindMutable(c.saga_id);
  if (instance == nullptr) return NotFoundError("unknown saga '" + c.saga_id + "'");
  if (instance->finished()) {
    return KvError{GrpcCode::kFailedPrecondition,
                   "saga '" + c.saga_id + "' already finished (" +
                       saga::SagaOutcomeName(instance->orchestrator->outcome()) + ")"};
  }
  commands_.clear();
  instance->orchestrator->Abort(ToTime(now_ms), commands_);
  AfterInput(*instance, now_ms);
  SagaReply reply;
  reply.saga_id = c.saga_id;
  return reply;
}

KvOr<SagaReply> SagaTable::ApplyInputs(std::uint64_t index, std::uint64_t now_ms,
                                       const SagaInputsCommand& c) {
  SagaReply reply;
  reply.dispatch_tokens.assign(c.inputs.size(), 0);
  const TimePoint now = ToTime(now_ms);
  for (std::size_t i = 0; i < c.inputs.size(); ++i) {
    const SagaInput& input = c.inputs[i];
    SagaInstance* instance = FindMutable(input.saga_id);
    if (instance == nullptr || instance->finished()) continue;  // late: the saga moved on
    saga::Orchestrator& orch = *instance->orchestrator;
    commands_.clear();
    if (input.kind == SagaInput::Kind::kTimerFired) {
      auto t = instance->timers.find(input.timer);
      if (t == instance->timers.end()) continue;  // fired already (a repeated proposal)
      timer_index_.erase({t->second, instance->id, t->first});
      instance->timers.erase(t);
      orch.OnTimerFired(input.timer, now, commands_);
      AfterInput(*instance, now_ms);
      continue;
    }
    if (input.step >= orch.plan().size()) {
      ++instance->stale_results_dropped;
      ++stale_results_dropped_;
      continue;
    }
    auto slot = instance->wanted.find({input.phase, input.step});
    const bool current = slot != instance->wanted.end() && slot->second.attempt == input.attempt;
    if (input.kind == SagaInput::Kind::kStarted) {
      if (!current) continue;  // cancelled or superseded before it was dispatched
      const bool first = slot->second.dispatch == 0;
      slot->second.dispatch = index;
      reply.dispatch_tokens[i] = index;
      if (first) {
        orch.OnAttemptStarted(input.phase, input.step, input.attempt, now, commands_);
        AfterInput(*instance, now_ms);
      } else {
        MarkChanged(instance->id);
      }
      continue;
    }
    if (!current ||
        (slot->second.dispatch != input.dispatch && !options_.testing_bugs.accept_stale_results)) {
      ++instance->stale_results_dropped;
      ++stale_results_dropped_;
      MarkChanged(instance->id);
      continue;
    }
    instance->wanted.erase(slot);
    if (input.kind == SagaInput::Kind::kSucceeded) {
      std::string_view output = input.payload;
      if (output.size() > options_.limits.max_step_output_bytes) {
        orch.OnAttemptFailed(input.phase, input.step, input.attempt, saga::kCodeFailed, false,
                             "output of " + std::to_string(output.size()) +
                                 " bytes is above the limit of " +
                                 std::to_string(options_.limits.max_step_output_bytes),
                             now, commands_);
      } else {
        orch.OnAttemptSucceeded(input.phase, input.step, input.attempt, now, commands_, output);
      }
    } else {
      orch.OnAttemptFailed(input.phase, input.step, input.attempt, input.code, input.retryable,
                           input.payload, now, commands_);
    }
    AfterInput(*instance, now_ms);
  }
  return reply;
}

void SagaTable::AfterInput(SagaInstance& instance, std::uint64_t now_ms) {
  saga::Orchestrator& orch = *instance.orchestrator;
  for (const saga::TraceRecord& r : orch.trace()) {
    instance.events.push_back(SagaEventRecord{.time_ms = ToMsCeil(r.time),
                                              .step = r.step,
                                              .event = r.event,
                                              .attempt = r.attempt,
                                              .code = r.code});
  }
  orch.ClearTrace();
  while (instance.events.size() > options_.max_events_per_saga) {
    instance.events.pop_front();
    ++instance.first_event_position;
  }
  bool finished = false;
  for (const saga::Command& command : commands_) {
    switch (command.kind) {
      case saga::CommandKind::kStartAttempt:
        instance.wanted[{command.phase, command.step}] =
            SagaWantedAttempt{.attempt = command.attempt, .dispatch = 0, .scheduled_ms = now_ms};
        break;
      case saga::CommandKind::kCancelAttempt: {
        auto it = instance.wanted.find({command.phase, command.step});
        if (it != instance.wanted.end() && it->second.attempt == command.attempt) {
          instance.wanted.erase(it);
        }
        break;
      }
      case saga::CommandKind::kArmTimer: {
        const std::uint64_t fire_ms = std::max(ToMsCeil(command.fire_at), now_ms);
        instance.timers[command.timer] = fire_ms;
        timer_index_.emplace(fire_ms, instance.id, command.timer);
        break;
      }
      case saga::CommandKind::kSagaFinished:
        finished = true;
        break;
    }
  }
  commands_.clear();
  MarkChanged(instance.id);
  if (finished) Finish(instance, now_ms);
}

void SagaTable::Finish(SagaInstance& instance, std::uint64_t now_ms) {
  TRI_ASSERT(instance.orchestrator->finished());
  instance.finished_ms = std::max<std::uint64_t>(now_ms, 1);
  instance.wanted.clear();
  for (const auto& [timer, fire_ms] : instance.timers)
    timer_index_.erase({fire_ms, instance.id, timer});
  instance.timers.clear();
  running_.erase(instance.id);
  finished_index_.emplace(instance.finished_ms, instance.id);
  while (finished_index_.size() > options_.max_finished_sagas) {
    const std::string oldest = finished_index_.begin()->second;
    Drop(oldest, "count bound");
  }
}

void SagaTable::Sweep(std::uint64_t now_ms) {
  while (!finished_index_.empty() &&
         finished_index_.begin()->first + options_.retention_ms <= now_ms) {
    const std::string oldest = finished_index_.begin()->second;
    Drop(oldest, "retention");
  }
}

std::uint64_t SagaTable::next_sweep_ms() const {
  if (finished_index_.empty()) return UINT64_MAX;
  return finished_index_.begin()->first + options_.retention_ms;
}

void SagaTable::Drop(const std::string& saga_id, const char* reason) {
  auto it = sagas_.find(saga_id);
  TRI_ASSERT(it != sagas_.end() && it->second->finished());
  const SagaInstance& instance = *it->second;
  swept_.push_back(
      SagaSweepRecord{.saga_id = saga_id,
                      .outcome = saga::SagaOutcomeName(instance.orchestrator->outcome()),
                      .finished_ms = instance.finished_ms,
                      .reason = reason});
  finished_index_.erase({instance.finished_ms, saga_id});
  sagas_.erase(it);
}

SagaInstance* SagaTable::FindMutable(std::string_view saga_id) {
  auto it = sagas_.find(saga_id);
  return it == sagas_.end() ? nullptr : it->second.get();
}

const SagaInstance* SagaTable::Find(std::string_view saga_id) const {
  auto it = sagas_.find(saga_id);
  return it == sagas_.end() ? nullptr : it->second.get();
}

void SagaTable::MarkChanged(const std::string& saga_id) {
  if (changed_set_.insert(saga_id).second) changed_.push_back(saga_id);
}

std::vector<std::string> SagaTable::TakeChanged() {
  changed_set_.clear();
  return std::exchange(changed_, {});
}

std::vector<SagaSweepRecord> SagaTable::TakeSwept() {
  return std::exchange(swept_, {});
}

// --- snapshots ----------------------------------------------------------------

void SagaTable::EncodeTo(std::string& out) const {
  out.append(kSagaTableMagic);
  coding::PutVarint64(out, definition_count_);
  for (const auto& [name, versions] : definitions_) {
    for (const auto& [version, entry] : versions) {
      coding::PutVarint64(out, version);
      coding::PutLengthPrefixed(out, entry->document);
      coding::PutLengthPrefixed(out, entry->source_name);
    }
  }
  coding::PutVarint64(out, stale_results_dropped_);
  coding::PutVarint64(out, sagas_.size());
  for (const auto& [id, s] : sagas_) {
    coding::PutLengthPrefixed(out, id);
    coding::PutVarint64(out, s->definition->version);
    if (s->definition->version == 0) {
      coding::PutLengthPrefixed(out, s->definition->document);
    } else {
      coding::PutLengthPrefixed(out, s->definition->name);
    }
    coding::PutVarint64(out, s->inputs.size());
    for (const auto& [name, value] : s->inputs) {
      coding::PutLengthPrefixed(out, name);
      coding::PutLengthPrefixed(out, value);
    }
    coding::PutVarint64(out, s->created_ms);
    coding::PutVarint64(out, s->finished_ms);
    for (const std::uint64_t word : s->rng->State())
      coding::PutFixed64(out, word);
    coding::PutLengthPrefixed(out, s->orchestrator->Serialize());
    coding::PutVarint64(out, s->wanted.size());
    for (const auto& [key, w] : s->wanted) {
      out.push_back(static_cast<char>(key.first));
      coding::PutVarint64(out, key.second);
      coding::PutVarint64(out, w.attempt);
      coding::PutVarint64(out, w.dispatch);
      coding::PutVarint64(out, w.scheduled_ms);
    }
    coding::PutVarint64(out, s->timers.size());
    for (const auto& [timer, fire_ms] : s->timers) {
      coding::PutVarint64(out, timer);
      coding::PutVarint64(out, fire_ms);
    }
    coding::PutVarint64(out, s->first_event_position);
    coding::PutVarint64(out, s->events.size());
    for (const SagaEventRecord& e : s->events) {
      coding::PutVarint64(out, e.time_ms);
      coding::PutVarint64(out, e.step);
      out.push_back(static_cast<char>(e.event));
      coding::PutVarint64(out, e.attempt);
      coding::PutVarint64(out, static_cast<std::uint32_t>(e.code));
    }
    coding::PutVarint64(out, s->stale_results_dropped);
  }
}

Result<SagaTable> SagaTable::DecodeFrom(coding::Decoder& in, const SagaOptions& options) {
  auto bad = [&in](const std::string& what) {
    return InvalidArgument("rsm snapshot: saga table: " + what + " at byte " +
                           std::to_string(in.position()));
  };
  std::string_view magic;
  if (!in.ReadBytes(kSagaTableMagic.size(), magic) || magic != kSagaTableMagic) {
    return bad("bad magic");
  }
  SagaTable table(options);
  std::uint64_t count = 0;
  if (!in.ReadVarint64(count) || count > in.remaining()) return bad("definition count");
  for (std::uint64_t i = 0; i < count; ++i) {
    std::uint32_t version = 0;
    std::string document, source_name;
    if (!in.ReadVarint32(version) || version == 0 || !in.ReadLengthPrefixed(document) ||
        !in.ReadLengthPrefixed(source_name)) {
      return bad("definition " + std::to_string(i) + " truncated");
    }
    auto parsed = ParseDefinition(document, source_name, options.limits);
    if (!parsed.ok()) {
      return bad("definition " + std::to_string(i) +
                 " does not parse: " + parsed.status().message());
    }
    auto entry = std::make_shared<SagaDefinitionEntry>();
    entry->name = (*parsed)->spec.name;
    entry->version = version;
    entry->document = std::move(document);
    entry->source_name = std::move(source_name);
    entry->definition = std::move(parsed).value();
    auto& versions = table.definitions_[entry->name];
    if (!versions.empty() && versions.rbegin()->first >= version) {
      return bad("definition versions of '" + entry->name + "' out of order");
    }
    versions.emplace(version, std::move(entry));
    ++table.definition_count_;
  }
  if (!in.ReadVarint64(table.stale_results_dropped_) || !in.ReadVarint64(count) ||
      count > in.remaining()) {
    return bad("saga count");
  }
  for (std::uint64_t i = 0; i < count; ++i) {
    auto s = std::make_unique<SagaInstance>();
    std::uint32_t version = 0;
    std::string def_ref;
    if (!in.ReadLengthPrefixed(s->id) || !in.ReadVarint32(version) ||
        !in.ReadLengthPrefixed(def_ref)) {
      return bad("saga " + std::to_string(i) + " truncated");
    }
    const std::string where = "saga '" + s->id + "'";
    if (!table.sagas_.empty() && table.sagas_.rbegin()->first >= s->id) {
      return bad(where + " out of order");
    }
    if (version == 0) {
      auto parsed = ParseDefinition(def_ref, "inline", options.limits);
      if (!parsed.ok()) return bad(where + ": inline definition: " + parsed.status().message());
      auto entry = std::make_shared<SagaDefinitionEntry>();
      entry->name = (*parsed)->spec.name;
      entry->document = std::move(def_ref);
      entry->source_name = "inline";
      entry->definition = std::move(parsed).value();
      s->definition = std::move(entry);
    } else {
      auto it = table.definitions_.find(def_ref);
      auto v =
          it == table.definitions_.end() ? decltype(it->second.end()){} : it->second.find(version);
      if (it == table.definitions_.end() || v == it->second.end()) {
        return bad(where + ": unknown definition '" + def_ref + "' version " +
                   std::to_string(version));
      }
      s->definition = v->second;
    }
    std::uint64_t n = 0;
    if (!in.ReadVarint64(n) || n > in.remaining()) return bad(where + ": input count");
    for (std::uint64_t k = 0; k < n; ++k) {
      std::string name, value;
      if (!in.ReadLengthPrefixed(name) || !in.ReadLengthPrefixed(value)) {
        return bad(where + ": input truncated");
      }
      s->inputs.emplace(std::move(name), std::move(value));
    }
    std::array<std::uint64_t, 4> rng_state{};
    if (!in.ReadVarint64(s->created_ms) || !in.ReadVarint64(s->finished_ms) ||
        !in.ReadFixed64(rng_state[0]) || !in.ReadFixed64(rng_state[1]) ||
        !in.ReadFixed64(rng_state[2]) || !in.ReadFixed64(rng_state[3])) {
      return bad(where + ": times or generator truncated");
    }
    s->rng = std::make_unique<SeededRng>(SeededRng::FromState(rng_state));
    std::string_view orchestrator_state;
    if (!in.ReadLengthPrefixed(orchestrator_state)) return bad(where + ": orchestrator truncated");
    s->orchestrator = std::make_unique<saga::Orchestrator>(
        s->def().plan, *s->rng, saga::OrchestratorOptions{.trace = true});
    if (Status st = s->orchestrator->Restore(orchestrator_state); !st.ok()) {
      return bad(where + ": " + st.message());
    }
    if (s->orchestrator->finished() != (s->finished_ms != 0)) {
      return bad(where + ": finished time disagrees with the orchestrator");
    }
    if (!in.ReadVarint64(n) || n > in.remaining()) return bad(where + ": attempt count");
    for (std::uint64_t k = 0; k < n; ++k) {
      std::uint8_t phase = 0;
      std::uint32_t step = 0;
      SagaWantedAttempt w;
      if (!in.ReadFixed8(phase) || phase > 1 || !in.ReadVarint32(step) ||
          !in.ReadVarint32(w.attempt) || !in.ReadVarint64(w.dispatch) ||
          !in.ReadVarint64(w.scheduled_ms)) {
        return bad(where + ": attempt truncated");
      }
      if (step >= s->orchestrator->plan().size() || s->finished()) {
        return bad(where + ": attempt of step " + std::to_string(step) + " is impossible");
      }
      s->wanted[{static_cast<saga::AttemptPhase>(phase), step}] = w;
    }
    if (!in.ReadVarint64(n) || n > in.remaining()) return bad(where + ": timer count");
    for (std::uint64_t k = 0; k < n; ++k) {
      std::uint64_t timer = 0, fire_ms = 0;
      if (!in.ReadVarint64(timer) || !in.ReadVarint64(fire_ms) || s->finished()) {
        return bad(where + ": timer truncated or impossible");
      }
      s->timers[timer] = fire_ms;
      table.timer_index_.emplace(fire_ms, s->id, timer);
    }
    if (!in.ReadVarint64(s->first_event_position) || !in.ReadVarint64(n) || n > in.remaining()) {
      return bad(where + ": event count");
    }
    for (std::uint64_t k = 0; k < n; ++k) {
      SagaEventRecord e;
      std::uint32_t step = 0, code = 0;
      std::uint8_t event = 0;
      if (!in.ReadVarint64(e.time_ms) || !in.ReadVarint32(step) || !in.ReadFixed8(event) ||
          event > static_cast<std::uint8_t>(saga::TraceEvent::kCompensationScheduled) ||
          !in.ReadVarint32(e.attempt) || !in.ReadVarint32(code)) {
        return bad(where + ": event truncated");
      }
      e.step = step;
      e.event = static_cast<saga::TraceEvent>(event);
      e.code = static_cast<int>(code);
      s->events.push_back(e);
    }
    if (!in.ReadVarint64(s->stale_results_dropped)) return bad(where + ": counter truncated");
    if (s->finished()) {
      table.finished_index_.emplace(s->finished_ms, s->id);
    } else {
      table.running_.insert(s->id);
    }
    table.sagas_.emplace(s->id, std::move(s));
  }
  // A restored table is news to every observer (watchers on a member that
  // installed a leader's snapshot, the executor of a member that restarted).
  for (const auto& [id, saga] : table.sagas_)
    table.MarkChanged(id);
  return table;
}

}  // namespace tri::rsm
