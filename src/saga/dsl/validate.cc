#include "saga/dsl/validate.h"

#include <algorithm>
#include <optional>
#include <set>
#include <unordered_map>

#include "base/assert.h"
#include "saga/dsl/template.h"
#include "saga/graph.h"

namespace tri::saga {

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

namespace {

class Validator {
 public:
  Validator(const SagaSpec& spec, const SagaLimits& limits, const SagaSourceMap* map,
            Diagnostics& diagnostics)
      : spec_(spec), limits_(limits), map_(map), diagnostics_(diagnostics) {}

  void Run() {
    CheckLimitsUpFront();
    CheckInputs();
    CheckIds();
    CheckNeeds();
    CheckGraph();
    // Reachability checks of templates are skipped when the graph is unusable
    // (cycle); every other template error is still reported.
    CheckTemplates();
  }

 private:
  const SagaSourceMap::Step* StepMap(std::size_t s) const {
    if (map_ == nullptr || s >= map_->step_locations.size()) return nullptr;
    return &map_->step_locations[s];
  }
  SourceLocation StepLoc(std::size_t s) const {
    SourceLocation loc = spec_.steps[s].location;
    if (loc.file.empty() && map_ != nullptr) loc.file = map_->file;
    return loc;
  }
  SourceLocation IdLoc(std::size_t s) const {
    const auto* m = StepMap(s);
    return m != nullptr && m->id.line > 0 ? m->id : StepLoc(s);
  }
  SourceLocation NeedsLoc(std::size_t s, std::size_t item) const {
    const auto* m = StepMap(s);
    if (m != nullptr && item < m->need_items.size()) return m->need_items[item];
    if (m != nullptr && m->needs.line > 0) return m->needs;
    return StepLoc(s);
  }
  SourceLocation NeedsLoc(std::size_t s) const {
    const auto* m = StepMap(s);
    return m != nullptr && m->needs.line > 0 ? m->needs : StepLoc(s);
  }
  SourceLocation FieldLoc(std::size_t s, const std::string& field) const {
    if (const auto* m = StepMap(s)) {
      if (auto it = m->fields.find(field); it != m->fields.end()) return it->second;
    }
    return StepLoc(s);
  }
  SourceLocation SagaLoc(const SourceLocation& preferred) const {
    if (preferred.line > 0) return preferred;
    SourceLocation loc = spec_.location;
    if (loc.file.empty() && map_ != nullptr) loc.file = map_->file;
    return loc;
  }

  void Error(SourceLocation loc, std::string step, std::string field, std::string message) {
    diagnostics_.Add(
        Diagnostic{std::move(loc), std::move(step), std::move(field), std::move(message)});
  }

  void CheckLimitsUpFront() {
    if (spec_.steps.size() > limits_.max_steps) {
      Error(SagaLoc(map_ ? map_->steps : SourceLocation{}), "", "steps",
            "too many steps: " + std::to_string(spec_.steps.size()) + " (the limit is " +
                std::to_string(limits_.max_steps) + ")");
    }
  }

  void CheckInputs() {
    std::unordered_map<std::string_view, std::size_t> seen;
    for (std::size_t i = 0; i < spec_.inputs.size(); ++i) {
      const std::string& name = spec_.inputs[i].name;
      const SourceLocation loc = SagaLoc(map_ ? map_->inputs : SourceLocation{});
      if (!IsValidId(name)) {
        Error(loc, "", "inputs", "bad input name '" + name + "' (use 1 to 128 of A-Z a-z 0-9 _ -)");
      } else if (!seen.emplace(name, i).second) {
        Error(loc, "", "inputs", "duplicate input '" + name + "'");
      }
      inputs_.emplace(name);
    }
  }

  void CheckIds() {
    for (std::size_t s = 0; s < spec_.steps.size(); ++s) {
      const StepSpec& step = spec_.steps[s];
      const auto* m = StepMap(s);
      if (m != nullptr && !m->id_present) continue;  // reported by the parser
      if (step.id.empty()) {
        Error(IdLoc(s), "", "steps[" + std::to_string(s) + "].id", "the step id is empty");
        continue;
      }
      if (!IsValidId(step.id)) {
        Error(IdLoc(s), step.id, "id",
              "bad step id '" + step.id + "' (use 1 to 128 of A-Z a-z 0-9 _ -)");
        continue;
      }
      auto [it, inserted] = index_.emplace(step.id, static_cast<StepIndex>(s));
      if (!inserted) {
        std::string message = "duplicate step id '" + step.id + "'";
        if (IdLoc(it->second).line > 0) {
          message += " (first at line " + std::to_string(IdLoc(it->second).line) + ")";
        }
        Error(IdLoc(s), step.id, "id", std::move(message));
      }
    }
  }

  std::string Suggest(const std::string& unknown) const {
    // Cheapest useful hint: a known id with the same prefix or a one-letter slip.
    std::string best;
    std::size_t best_score = 3;
    if (index_.size() > 1000) return best;  // bounded work on huge sagas
    for (const auto& [id, s] : index_) {
      std::size_t diff = 0;
      // Levenshtein, short-circuited: only ids of similar length qualify.
      const std::size_t la = unknown.size(), lb = id.size();
      if ((la > lb ? la - lb : lb - la) >= best_score || la > 64 || lb > 64) continue;
      std::vector<std::size_t> row(lb + 1);
      for (std::size_t j = 0; j <= lb; ++j)
        row[j] = j;
      for (std::size_t i = 1; i <= la; ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= lb; ++j) {
          const std::size_t up = row[j];
          row[j] = std::min(
              {row[j] + 1, row[j - 1] + 1, diagonal + (unknown[i - 1] == id[j - 1] ? 0 : 1)});
          diagonal = up;
        }
      }
      diff = row[lb];
      if (diff < best_score || (diff == best_score && !best.empty() && std::string(id) < best)) {
        best_score = diff;
        best = std::string(id);
      }
    }
    return best;
  }

  void CheckNeeds() {
    needs_.assign(spec_.steps.size(), {});
    for (std::size_t s = 0; s < spec_.steps.size(); ++s) {
      const StepSpec& step = spec_.steps[s];
      const std::string label = step.id;
      if (step.needs.size() > limits_.max_needs_per_step) {
        Error(NeedsLoc(s), label, "needs",
              "too many needs: " + std::to_string(step.needs.size()) + " (the limit is " +
                  std::to_string(limits_.max_needs_per_step) + ")");
        continue;
      }
      for (std::size_t i = 0; i < step.needs.size(); ++i) {
        const std::string& need = step.needs[i];
        auto it = index_.find(need);
        if (need == step.id && !step.id.empty()) {
          Error(NeedsLoc(s, i), label, "needs", "a step cannot need itself");
        } else if (it == index_.end()) {
          std::string message = "unknown step '" + need + "'";
          if (std::string hint = Suggest(need); !hint.empty()) {
            message += " (did you mean '" + hint + "'?)";
          }
          Error(NeedsLoc(s, i), label, "needs", std::move(message));
        } else if (std::find(step.needs.begin(), step.needs.begin() + i, need) !=
                   step.needs.begin() + i) {
          Error(NeedsLoc(s, i), label, "needs", "'" + need + "' is listed twice");
        } else {
          needs_[s].push_back(it->second);
        }
      }
    }
  }

  // Cycles and depth. Sets graph_ when the graph is usable for reachability.
  void CheckGraph() {
    if (spec_.steps.size() > limits_.max_steps) return;
    const std::vector<StepIndex> cycle = FindCycle(needs_);
    if (!cycle.empty()) {
      TRI_ASSERT(cycle.size() >= 2 && cycle.front() == cycle.back());
      std::string text;
      for (std::size_t i = 0; i < cycle.size(); ++i) {
        if (i > 0) text += " -> ";
        text += spec_.steps[cycle[i]].id;
      }
      // FindCycle follows needs edges (cycle[i] needs cycle[i + 1]): point at
      // the entry of cycle[0]'s needs that starts the cycle.
      const std::size_t at = cycle[0];
      const auto& needs = spec_.steps[at].needs;
      const auto pos = std::find(needs.begin(), needs.end(), spec_.steps[cycle[1]].id);
      Error(NeedsLoc(at, static_cast<std::size_t>(pos - needs.begin())), spec_.steps[at].id,
            "needs", "cycle: " + text);
      return;
    }
    auto graph = SagaGraph::FromNeeds(needs_);
    TRI_ASSERT_MSG(graph.ok(), "acyclic needs must build a graph");
    if (graph->depth() > limits_.max_depth) {
      StepIndex deepest = 0;
      for (StepIndex s = 0; s < graph->size(); ++s) {
        if (graph->level(s) > graph->level(deepest)) deepest = s;
      }
      Error(NeedsLoc(deepest), spec_.steps[deepest].id, "needs",
            "the saga is " + std::to_string(graph->depth()) + " levels deep here (the limit is " +
                std::to_string(limits_.max_depth) + ")");
    }
    graph_.emplace(std::move(graph).value());
  }

  void CheckTemplates() {
    for (std::size_t s = 0; s < spec_.steps.size(); ++s) {
      const StepSpec& step = spec_.steps[s];
      CheckActionTemplates(s, "run", step.run, /*may_reference_self=*/false);
      if (step.compensate) CheckActionTemplates(s, "compensate", *step.compensate, true);
    }
  }

  void CheckActionTemplates(std::size_t s, const std::string& prefix, const Action& action,
                            bool may_reference_self) {
    const StepSpec& step = spec_.steps[s];
    ForEachTemplatedField(action, [&](const std::string& field, const std::string& text) {
      if (text.find('$') == std::string::npos) return;
      const std::string path = prefix + "." + field;
      auto parts = ParseTemplate(text);
      if (!parts.ok()) {
        Error(FieldLoc(s, path), step.id, path, parts.status().message());
        return;
      }
      for (const TemplatePart& part : *parts) {
        if (part.kind == TemplatePart::Kind::kInput && !inputs_.contains(part.name)) {
          Error(FieldLoc(s, path), step.id, path,
                "'" + part.text + "': unknown input '" + part.name + "' (declare it in 'inputs')");
        } else if (part.kind == TemplatePart::Kind::kStepOutput) {
          auto it = index_.find(part.name);
          if (it == index_.end()) {
            Error(FieldLoc(s, path), step.id, path,
                  "'" + part.text + "': unknown step '" + part.name + "'");
          } else if (it->second == s) {
            if (!may_reference_self) {
              Error(FieldLoc(s, path), step.id, path,
                    "'" + part.text + "': a step's run cannot use its own output");
            } else if (step.compensate_when == CompensateWhen::kAttempted && !part.fallback) {
              // Compensated after a timeout or cancel, the step has no output.
              Error(FieldLoc(s, path), step.id, path,
                    "'" + part.text + "': step '" + step.id +
                        "' is compensated even when it did not succeed (compensate_when: "
                        "attempted), and then has no output; give a default, e.g. '" +
                        part.text.substr(0, part.text.size() - 1) + ":-}'");
            }
          } else if (graph_.has_value() &&
                     !graph_->TransitivelyNeeds(static_cast<StepIndex>(s), it->second)) {
            Error(FieldLoc(s, path), step.id, path,
                  "'" + part.text + "': step '" + step.id + "' does not need '" + part.name +
                      "' (directly or transitively), so its output may not exist yet");
          }
        }
      }
    });
  }

  const SagaSpec& spec_;
  const SagaLimits& limits_;
  const SagaSourceMap* map_;
  Diagnostics& diagnostics_;
  std::unordered_map<std::string_view, StepIndex> index_;
  std::set<std::string, std::less<>> inputs_;
  std::vector<std::vector<StepIndex>> needs_;
  std::optional<SagaGraph> graph_;
};

}  // namespace

void ValidateSaga(const SagaSpec& spec, const SagaLimits& limits, const SagaSourceMap* source_map,
                  Diagnostics& diagnostics) {
  Validator(spec, limits, source_map, diagnostics).Run();
}

Status ValidateSaga(const SagaSpec& spec, const SagaLimits& limits) {
  Diagnostics diagnostics;
  ValidateSaga(spec, limits, nullptr, diagnostics);
  return diagnostics.ToStatus();
}

}  // namespace tri::saga
