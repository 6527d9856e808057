// Property: a generated valid saga, written out as YAML or JSON text, parses
// back into the same spec.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "saga/dsl/duration.h"
#include "saga/dsl/parser.h"

namespace tri::saga {
namespace {

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string Dur(Duration d) {
  return Quote(FormatDuration(d));
}

// Flow-style text: valid YAML and (with every scalar quoted or numeric) valid JSON.
std::string ActionText(const Action& action) {
  if (std::holds_alternative<NoopAction>(action)) return R"({"noop": {}})";
  if (const auto* s = std::get_if<SleepAction>(&action)) {
    return R"({"sleep": {"duration": )" + Dur(s->duration) + "}}";
  }
  if (const auto* f = std::get_if<FailAction>(&action)) {
    return R"({"fail": {"code": )" + std::to_string(f->code) + R"(, "message": )" +
           Quote(f->message) + R"(, "after": )" + Dur(f->after) + R"(, "retryable": )" +
           (f->retryable ? "true" : "false") + "}}";
  }
  const auto& e = std::get<ExecAction>(action);
  std::string argv;
  for (const auto& a : e.argv)
    argv += (argv.empty() ? "" : ", ") + Quote(a);
  return R"({"exec": {"argv": [)" + argv + R"(], "shell": )" + (e.shell ? "true" : "false") + "}}";
}

std::string SagaText(const SagaSpec& spec) {
  std::string out = "{\"name\": " + Quote(spec.name) + ",\n \"deadline\": " + Dur(spec.deadline) +
                    ",\n \"defaults\": {\"timeout\": " + Dur(spec.defaults.timeout) + "},\n" +
                    " \"steps\": [\n";
  for (std::size_t i = 0; i < spec.steps.size(); ++i) {
    const StepSpec& s = spec.steps[i];
    std::string needs;
    for (const auto& n : s.needs)
      needs += (needs.empty() ? "" : ", ") + Quote(n);
    out += "  {\"id\": " + Quote(s.id) + ", \"needs\": [" + needs +
           "], \"run\": " + ActionText(s.run) + ", \"timeout\": " + Dur(s.timeout) +
           ", \"retry\": {\"max_attempts\": " + std::to_string(s.retry.max_attempts) + "}";
    if (s.compensate) {
      out += ", \"compensate\": " + ActionText(*s.compensate) + ", \"compensate_when\": " +
             (s.compensate_when == CompensateWhen::kAttempted ? "\"attempted\"" : "\"succeeded\"");
    }
    out += i + 1 == spec.steps.size() ? "}\n" : "},\n";
  }
  return out + "]}\n";
}

rc::Gen<Duration> GenDuration() {
  return rc::gen::map(rc::gen::inRange<std::int64_t>(0, 3'600'000'000'000),
                      [](std::int64_t ns) { return Duration{ns}; });
}

rc::Gen<std::string> GenText() {
  return rc::gen::container<std::string>(rc::gen::element('a', 'Z', '0', ' ', '-', '"', '\\', '/'));
}

rc::Gen<Action> GenAction() {
  return rc::gen::oneOf(
      rc::gen::just(Action(NoopAction{})),
      rc::gen::map(GenDuration(), [](Duration d) { return Action(SleepAction{.duration = d}); }),
      rc::gen::apply(
          [](int code, std::string message, Duration after, bool retryable) {
            return Action(FailAction{code, std::move(message), after, retryable});
          },
          rc::gen::inRange(1, 1000), GenText(), GenDuration(), rc::gen::arbitrary<bool>()),
      rc::gen::apply(
          [](std::string program, std::vector<std::string> args, bool shell) {
            ExecAction e;
            e.argv.push_back("p" + program);
            e.argv.insert(e.argv.end(), args.begin(), args.end());
            e.shell = shell;
            return Action(std::move(e));
          },
          GenText(), rc::gen::container<std::vector<std::string>>(GenText()),
          rc::gen::arbitrary<bool>()));
}

SagaSpec GenSaga() {
  SagaSpec spec;
  spec.name = "saga-" + std::to_string(*rc::gen::inRange(0, 1'000'000));
  spec.deadline = *GenDuration();
  spec.defaults.timeout = *GenDuration();
  const int n = *rc::gen::inRange(1, 40);
  for (int i = 0; i < n; ++i) {
    StepSpec step;
    step.id = "s" + std::to_string(i) + (*rc::gen::arbitrary<bool>() ? "_x" : "-y");
    if (i > 0) {
      auto picks = *rc::gen::container<std::vector<int>>(*rc::gen::inRange(0, std::min(i, 5) + 1),
                                                         rc::gen::inRange(0, i));
      std::sort(picks.begin(), picks.end());
      picks.erase(std::unique(picks.begin(), picks.end()), picks.end());
      for (int p : picks)
        step.needs.push_back(spec.steps[p].id);
    }
    step.run = *GenAction();
    step.timeout = *GenDuration();
    step.retry.max_attempts = *rc::gen::inRange<std::uint32_t>(1, 11);
    if (*rc::gen::arbitrary<bool>()) {
      step.compensate = *GenAction();
      step.compensate_when =
          *rc::gen::arbitrary<bool>() ? CompensateWhen::kAttempted : CompensateWhen::kSucceeded;
    }
    spec.steps.push_back(std::move(step));
  }
  return spec;
}

bool SameAction(const Action& a, const Action& b) {
  if (a.index() != b.index()) return false;
  if (const auto* x = std::get_if<SleepAction>(&a))
    return x->duration == std::get<SleepAction>(b).duration;
  if (const auto* x = std::get_if<FailAction>(&a)) {
    const auto& y = std::get<FailAction>(b);
    return x->code == y.code && x->message == y.message && x->after == y.after &&
           x->retryable == y.retryable;
  }
  if (const auto* x = std::get_if<ExecAction>(&a)) {
    const auto& y = std::get<ExecAction>(b);
    return x->argv == y.argv && x->shell == y.shell && x->env == y.env && x->cwd == y.cwd;
  }
  return true;
}

void CheckRoundTrip(const SagaSpec& spec, std::string_view file) {
  const std::string text = SagaText(spec);
  auto parsed = ParseSaga(text, file);
  RC_ASSERT(parsed.ok());
  RC_ASSERT(parsed->name == spec.name);
  RC_ASSERT(parsed->deadline == spec.deadline);
  RC_ASSERT(parsed->defaults.timeout == spec.defaults.timeout);
  RC_ASSERT(parsed->steps.size() == spec.steps.size());
  for (std::size_t i = 0; i < spec.steps.size(); ++i) {
    const StepSpec& a = spec.steps[i];
    const StepSpec& b = parsed->steps[i];
    RC_ASSERT(a.id == b.id);
    RC_ASSERT(a.needs == b.needs);
    RC_ASSERT(SameAction(a.run, b.run));
    RC_ASSERT(a.timeout == b.timeout);
    RC_ASSERT(a.retry.max_attempts == b.retry.max_attempts);
    RC_ASSERT(a.compensate.has_value() == b.compensate.has_value());
    if (a.compensate) {
      RC_ASSERT(SameAction(*a.compensate, *b.compensate));
      RC_ASSERT(a.compensate_when == b.compensate_when);
    }
    RC_ASSERT(b.location.line == static_cast<int>(i) + 5);
  }
}

RC_GTEST_PROP(DslRoundTrip, GeneratedSagasParseBackFromYamlAndJson, ()) {
  const SagaSpec spec = GenSaga();
  CheckRoundTrip(spec, "gen.yaml");
  CheckRoundTrip(spec, "gen.json");
}

}  // namespace
}  // namespace tri::saga
