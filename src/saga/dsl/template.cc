#include "saga/dsl/template.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "base/assert.h"

namespace tri::saga {
namespace {

constexpr std::string_view kEscapeHint = " (write '$${' for a literal '${')";

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

bool IsName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

std::vector<std::string> SplitDots(std::string_view s) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = s.find('.', start);
    parts.emplace_back(s.substr(start, dot == std::string_view::npos ? s.npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

Status BadVariable(std::string_view written, std::string_view why) {
  return InvalidArgument("template variable '" + std::string(written) + "': " + std::string(why));
}

Result<TemplatePart> ParseVariable(std::string_view var, std::string_view written) {
  TemplatePart part;
  part.text = std::string(written);
  if (const std::size_t mark = var.find(":-"); mark != std::string_view::npos) {
    if (!var.starts_with("steps.")) {
      return BadVariable(written, "only a step output (${steps.ID.output...:-TEXT}) has a default");
    }
    part.fallback = std::string(var.substr(mark + 2));
    var = var.substr(0, mark);
  }
  if (var == "saga.id") {
    part.kind = TemplatePart::Kind::kSagaId;
  } else if (var == "step.id") {
    part.kind = TemplatePart::Kind::kStepId;
  } else if (var == "attempt") {
    part.kind = TemplatePart::Kind::kAttempt;
  } else if (var == "idempotency_key") {
    part.kind = TemplatePart::Kind::kIdempotencyKey;
  } else if (var.starts_with("input.")) {
    part.kind = TemplatePart::Kind::kInput;
    part.name = std::string(var.substr(6));
    if (!IsName(part.name)) return BadVariable(written, "bad input name");
  } else if (var.starts_with("steps.")) {
    std::vector<std::string> pieces = SplitDots(var.substr(6));
    if (pieces.size() < 2 || pieces[1] != "output" || !IsName(pieces[0])) {
      return BadVariable(written, "expected ${steps.ID.output} or ${steps.ID.output.PATH}");
    }
    part.kind = TemplatePart::Kind::kStepOutput;
    part.name = std::move(pieces[0]);
    for (std::size_t i = 2; i < pieces.size(); ++i) {
      if (pieces[i].empty()) return BadVariable(written, "empty path segment");
      part.path.push_back(std::move(pieces[i]));
    }
  } else {
    return InvalidArgument(
        "unknown template variable '" + std::string(written) +
        "' (known: input.NAME, saga.id, step.id, attempt, idempotency_key, steps.ID.output.PATH)");
  }
  return part;
}

void AppendLiteral(std::vector<TemplatePart>& parts, std::string_view text) {
  if (text.empty()) return;
  if (parts.empty() || parts.back().kind != TemplatePart::Kind::kLiteral) {
    parts.push_back(TemplatePart{});
  }
  parts.back().text.append(text);
}

std::string JsonText(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

Result<std::vector<TemplatePart>> ParseTemplate(std::string_view text) {
  std::vector<TemplatePart> parts;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t dollar = text.find('$', pos);
    if (dollar == std::string_view::npos) {
      AppendLiteral(parts, text.substr(pos));
      break;
    }
    AppendLiteral(parts, text.substr(pos, dollar - pos));
    if (text.substr(dollar, 3) == "$${") {
      AppendLiteral(parts, "${");
      pos = dollar + 3;
    } else if (text.substr(dollar, 2) == "${") {
      const std::size_t close = text.find('}', dollar + 2);
      if (close == std::string_view::npos) {
        return InvalidArgument("unterminated '${'" + std::string(kEscapeHint));
      }
      const std::string_view written = text.substr(dollar, close + 1 - dollar);
      const std::string_view var = text.substr(dollar + 2, close - dollar - 2);
      if (var.find("${") != std::string_view::npos) {
        return InvalidArgument("'${' inside '" + std::string(written) + "'" +
                               std::string(kEscapeHint));
      }
      TRI_ASSIGN_OR_RETURN(TemplatePart part, ParseVariable(var, written));
      parts.push_back(std::move(part));
      pos = close + 1;
    } else {
      AppendLiteral(parts, "$");
      pos = dollar + 1;
    }
  }
  return parts;
}

const nlohmann::json* ResolveJsonPath(const nlohmann::json& root,
                                      const std::vector<std::string>& path) {
  const nlohmann::json* at = &root;
  for (const std::string& key : path) {
    if (at->is_object()) {
      auto it = at->find(key);
      if (it == at->end()) return nullptr;
      at = &*it;
    } else if (at->is_array()) {
      std::size_t index = 0;
      const char* end = key.data() + key.size();
      auto [ptr, ec] = std::from_chars(key.data(), end, index);
      if (ec != std::errc() || ptr != end || index >= at->size()) return nullptr;
      at = &(*at)[index];
    } else {
      return nullptr;
    }
  }
  return at;
}

Result<std::string> Render(std::string_view text, const TemplateContext& context) {
  if (text.find('$') == std::string_view::npos) return std::string(text);
  TRI_ASSIGN_OR_RETURN(auto parts, ParseTemplate(text));
  std::string out;
  out.reserve(text.size());
  for (const TemplatePart& part : parts) {
    switch (part.kind) {
      case TemplatePart::Kind::kLiteral:
        out += part.text;
        break;
      case TemplatePart::Kind::kSagaId:
        out += context.saga_id;
        break;
      case TemplatePart::Kind::kStepId:
        out += context.step_id;
        break;
      case TemplatePart::Kind::kAttempt:
        out += std::to_string(context.attempt);
        break;
      case TemplatePart::Kind::kIdempotencyKey:
        out += context.idempotency_key;
        break;
      case TemplatePart::Kind::kInput: {
        if (context.inputs == nullptr) return InvalidArgument(part.text + ": no inputs given");
        auto it = context.inputs->find(part.name);
        if (it == context.inputs->end()) {
          return InvalidArgument(part.text + ": input '" + part.name + "' has no value");
        }
        out += it->second;
        break;
      }
      case TemplatePart::Kind::kStepOutput: {
        const nlohmann::json* output =
            context.step_output ? context.step_output(part.name) : nullptr;
        if (output == nullptr) {
          if (part.fallback) {
            out += *part.fallback;
            break;
          }
          return InvalidArgument(part.text + ": step '" + part.name + "' has no output");
        }
        const nlohmann::json* value = ResolveJsonPath(*output, part.path);
        if (value == nullptr && part.fallback) {
          out += *part.fallback;
          break;
        }
        if (value == nullptr) {
          std::string joined;
          for (const auto& p : part.path)
            joined += (joined.empty() ? "" : ".") + p;
          return InvalidArgument(part.text + ": the output of step '" + part.name + "' has no '" +
                                 joined + "'");
        }
        out += JsonText(*value);
        break;
      }
    }
  }
  return out;
}

void ForEachTemplatedField(
    const Action& action,
    const std::function<void(const std::string&, const std::string&)>& visit) {
  if (const auto* exec = std::get_if<ExecAction>(&action)) {
    for (std::size_t i = 0; i < exec->argv.size(); ++i) {
      visit("exec.argv[" + std::to_string(i) + "]", exec->argv[i]);
    }
    for (const auto& [key, value] : exec->env)
      visit("exec.env." + key, value);
    visit("exec.cwd", exec->cwd);
  } else if (const auto* http = std::get_if<HttpAction>(&action)) {
    visit("http.url", http->url);
    for (const auto& [key, value] : http->headers)
      visit("http.headers." + key, value);
    visit("http.body", http->body);
  }
}

Result<Action> RenderAction(const Action& action, const TemplateContext& context) {
  if (const auto* exec = std::get_if<ExecAction>(&action)) {
    ExecAction out = *exec;
    for (std::string& arg : out.argv) {
      TRI_ASSIGN_OR_RETURN(arg, Render(arg, context));
    }
    for (auto& [key, value] : out.env) {
      TRI_ASSIGN_OR_RETURN(value, Render(value, context));
    }
    TRI_ASSIGN_OR_RETURN(out.cwd, Render(out.cwd, context));
    return Action(std::move(out));
  }
  if (const auto* http = std::get_if<HttpAction>(&action)) {
    HttpAction out = *http;
    TRI_ASSIGN_OR_RETURN(out.url, Render(out.url, context));
    for (auto& [key, value] : out.headers) {
      TRI_ASSIGN_OR_RETURN(value, Render(value, context));
    }
    TRI_ASSIGN_OR_RETURN(out.body, Render(out.body, context));
    return Action(std::move(out));
  }
  return action;
}

}  // namespace tri::saga
