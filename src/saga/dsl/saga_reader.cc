#include "saga/dsl/saga_reader.h"

#include <string>
#include <string_view>

#include "saga/dsl/action_parsers.h"
#include "saga/dsl/duration.h"

namespace tri::saga::dsl {
namespace {

using YAML::Node;

constexpr std::string_view kSagaFields[] = {"name", "deadline", "defaults", "inputs", "steps"};
constexpr std::string_view kDefaultsFields[] = {
    "timeout",           "start_to_close", "schedule_to_start",
    "schedule_to_close", "retry",          "compensate_retry"};
constexpr std::string_view kStepFields[] = {"id",
                                            "needs",
                                            "run",
                                            "compensate",
                                            "timeout",
                                            "start_to_close",
                                            "schedule_to_start",
                                            "schedule_to_close",
                                            "retry",
                                            "compensate_retry",
                                            "compensate_when"};
constexpr std::string_view kRetryFields[] = {"max_attempts", "backoff", "jitter", "non_retryable",
                                             "retry_on"};
constexpr std::string_view kBackoffFields[] = {"initial", "multiplier", "max"};
constexpr std::string_view kInputFields[] = {"default", "description"};

// Exit statuses, HTTP statuses and the orchestrator's own codes all fit.
constexpr AsIntList kCodeList{
    .min = 0, .max = 999, .what = "a list of codes", .sorted_unique = true};

// The timeouts of a step or of `defaults`. `timeout` is the short name of
// `start_to_close`; a map may give one of the two.
struct Timeouts {
  Duration& start_to_close;
  Duration& schedule_to_start;
  Duration& schedule_to_close;
};

void ReadTimeouts(MapReader& map, const Timeouts& out) {
  if (map.Has("timeout") && map.Has("start_to_close")) {
    map.Invalid("start_to_close",
                "'timeout' and 'start_to_close' are the same setting (timeout is the short "
                "name); give one of them");
  }
  map.Read<AsDuration>("timeout", out.start_to_close);
  map.Read<AsDuration>("start_to_close", out.start_to_close);
  map.Read<AsDuration>("schedule_to_start", out.schedule_to_start);
  map.Read<AsDuration>("schedule_to_close", out.schedule_to_close);
}

// Applies the retry policy under `field` of `parent` on top of `policy`,
// field by field. The two code lists are one setting (which failures are
// retried): giving either replaces both inherited lists.
void ReadRetry(MapReader& parent, std::string_view field, RetryPolicy& policy) {
  const Entry* entry = parent.Find(field);
  if (entry == nullptr) return;
  NodeReader& reader = parent.reader();
  MapReader map(reader, entry->value, reader.ValueLoc(*entry), parent.inner(), field, kRetryFields);
  if (!map.is_map()) return;
  map.Read("max_attempts", policy.max_attempts, AsInt{.min = 1, .max = 1000});
  map.Read("jitter", policy.jitter, AsNumber{.min = 0.0, .max = 1.0});
  if (const Entry* backoff_entry = map.Find("backoff")) {
    MapReader backoff(reader, backoff_entry->value, reader.ValueLoc(*backoff_entry), map.inner(),
                      "backoff", kBackoffFields);
    if (backoff.is_map()) {
      backoff.Read<AsDuration>("initial", policy.backoff.initial);
      backoff.Read("multiplier", policy.backoff.multiplier, AsNumber{.min = 1.0, .max = 100.0});
      backoff.Read<AsDuration>("max", policy.backoff.max);
      if (policy.backoff.max < policy.backoff.initial) {
        map.Invalid("backoff", "max (" + FormatDuration(policy.backoff.max) +
                                   ") is less than initial (" +
                                   FormatDuration(policy.backoff.initial) + ")");
      }
    }
  }
  const bool non_retryable = map.Has("non_retryable");
  const bool retry_on = map.Has("retry_on");
  if (non_retryable && retry_on) {
    map.Invalid("retry_on",
                "give either 'non_retryable' (codes never retried) or 'retry_on' (the only codes "
                "retried), not both");
    return;
  }
  if (non_retryable || retry_on) {
    policy.non_retryable.clear();
    policy.retry_on.clear();
  }
  map.Read("non_retryable", policy.non_retryable, kCodeList);
  map.Read("retry_on", policy.retry_on, kCodeList);
}

void ReadDefaults(NodeReader& reader, const MapReader& root, SagaSpec& spec) {
  const Entry* entry = root.Find("defaults");
  if (entry == nullptr) return;
  MapReader map(reader, entry->value, reader.ValueLoc(*entry), root.inner(), "defaults",
                kDefaultsFields);
  if (!map.is_map()) return;
  StepDefaults& defaults = spec.defaults;
  ReadTimeouts(map, {defaults.timeout, defaults.schedule_to_start, defaults.schedule_to_close});
  ReadRetry(map, "retry", defaults.retry);
  ReadRetry(map, "compensate_retry", defaults.compensate_retry);
}

void ReadInputs(NodeReader& reader, const MapReader& root, SagaSpec& spec) {
  const Entry* entry = root.Find("inputs");
  if (entry == nullptr) return;
  MapReader inputs(reader, entry->value, reader.ValueLoc(*entry), root.inner(), "inputs", {});
  for (const Entry& item : inputs.entries()) {
    InputSpec input;
    input.name = item.key.Scalar();
    if (!IsValidId(input.name)) {
      reader.Error(reader.Loc(item.key), inputs.inner(), "",
                   "bad input name '" + input.name + "' (use 1 to 128 of A-Z a-z 0-9 _ -)");
      continue;
    }
    if (item.value.IsScalar()) {
      input.default_value = item.value.Scalar();  // shorthand: name: default
    } else if (item.value.IsMap()) {
      MapReader fields(reader, item.value, reader.ValueLoc(item), inputs.inner(), input.name,
                       kInputFields);
      fields.Read<AsString>("default", input.default_value);
      std::string description;  // documentation only
      fields.Read<AsString>("description", description);
    } else if (!item.value.IsNull()) {
      reader.Error(reader.ValueLoc(item), inputs.inner(), input.name,
                   "expected a default value, a map {default, description} or nothing "
                   "(required), got " +
                       Describe(item.value));
      continue;
    }
    spec.inputs.push_back(std::move(input));
  }
}

void ReadStep(NodeReader& reader, const Node& node, std::size_t index, const SagaSpec& spec,
              StepSpec& step, SagaSourceMap::Step& locations) {
  step.location = reader.Loc(node);
  step.timeout = spec.defaults.timeout;
  step.schedule_to_start = spec.defaults.schedule_to_start;
  step.schedule_to_close = spec.defaults.schedule_to_close;
  step.retry = spec.defaults.retry;
  step.compensate_retry = spec.defaults.compensate_retry;
  const std::string step_field = "steps[" + std::to_string(index) + "]";
  if (!node.IsMap()) {
    locations.id_present = false;
    reader.Error(reader.Loc(node), Where{}, step_field,
                 "expected a step (a map with id and run), got " + Describe(node));
    return;
  }
  // Read the id first so that every other error can name the step.
  Where where;
  if (const Node id = node["id"]; id.IsDefined() && id.IsScalar()) where.step = id.Scalar();
  MapReader map(reader, node, reader.Loc(node), where, "", kStepFields, &locations.fields);

  if (const Entry* id = map.Find("id")) {
    locations.id = reader.ValueLoc(*id);
    // A non-string id names no step: its error is located by index.
    const Where by_index{.step = "", .prefix = step_field + "."};
    if (auto v = AsString{}(reader, *id, by_index, "id", nullptr)) {
      step.id = *v;
    } else {
      locations.id_present = false;
    }
  } else {
    locations.id_present = false;
    reader.Error(reader.Loc(node), where, step_field, "missing required field 'id'");
  }
  if (map.Has("needs")) {
    locations.needs = map.ValueLoc("needs");
    if (map.Read<AsStringList>("needs", step.needs)) locations.need_items = map.ItemLocs("needs");
  }
  if (const Entry* run = map.Find("run")) {
    if (auto action = ReadAction(reader, *run, where, "run", &locations.fields)) {
      step.run = std::move(*action);
    }
  } else {
    map.Missing("run");
  }
  if (const Entry* compensate = map.Find("compensate")) {
    if (auto action = ReadAction(reader, *compensate, where, "compensate", &locations.fields)) {
      step.compensate = std::move(*action);
    }
  }
  ReadTimeouts(map, {step.timeout, step.schedule_to_start, step.schedule_to_close});
  ReadRetry(map, "retry", step.retry);
  ReadRetry(map, "compensate_retry", step.compensate_retry);
  std::string compensate_when;
  if (map.Read<AsString>("compensate_when", compensate_when) && map.Has("compensate_when")) {
    if (compensate_when == "succeeded") {
      step.compensate_when = CompensateWhen::kSucceeded;
    } else if (compensate_when == "attempted") {
      step.compensate_when = CompensateWhen::kAttempted;
    } else {
      map.Invalid("compensate_when",
                  "expected 'succeeded' or 'attempted', got '" + compensate_when + "'");
    }
  }
  if (map.Has("compensate_when") && !step.compensate.has_value()) {
    map.Invalid("compensate_when", "set, but the step has no 'compensate'");
  }
}

}  // namespace

void ReadSagaDocument(NodeReader& reader, const Node& root, SagaSpec& spec, SagaSourceMap& map) {
  spec.location = reader.Loc(root);
  if (!root.IsMap()) {
    reader.Error(reader.Loc(root).line > 0 ? reader.Loc(root) : SourceLocation{reader.file(), 1, 1},
                 Where{}, "",
                 "a saga document is a map with name and steps, got " + Describe(root));
    return;
  }
  MapReader saga(reader, root, reader.Loc(root), Where{}, "", kSagaFields);
  if (saga.ReadRequired<AsString>("name", spec.name)) {
    if (spec.name.empty() || spec.name.size() > 256) {
      saga.Invalid("name", "must be 1 to 256 characters");
    }
  }
  saga.Read<AsDuration>("deadline", spec.deadline);
  ReadDefaults(reader, saga, spec);
  if (saga.Has("inputs")) {
    map.inputs = saga.ValueLoc("inputs");
    ReadInputs(reader, saga, spec);
  }
  const Entry* steps = saga.Find("steps");
  if (steps == nullptr) {
    saga.Missing("steps");
    return;
  }
  map.steps = reader.ValueLoc(*steps);
  if (!steps->value.IsSequence()) {
    saga.Invalid("steps", "expected a list of steps, got " + Describe(steps->value));
    return;
  }
  if (steps->value.size() == 0) {
    saga.Invalid("steps", "a saga needs at least one step");
    return;
  }
  if (steps->value.size() > reader.limits().max_steps) {
    // Checked before reading the steps, so an oversized saga costs little.
    saga.Invalid("steps", "too many steps: " + std::to_string(steps->value.size()) +
                              " (the limit is " + std::to_string(reader.limits().max_steps) + ")");
    return;
  }
  spec.steps.resize(steps->value.size());
  map.step_locations.resize(steps->value.size());
  std::size_t index = 0;
  for (const Node& node : steps->value) {
    ReadStep(reader, node, index, spec, spec.steps[index], map.step_locations[index]);
    ++index;
  }
}

}  // namespace tri::saga::dsl
