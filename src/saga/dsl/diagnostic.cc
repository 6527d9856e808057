#include "saga/dsl/diagnostic.h"

#include <algorithm>

namespace tri::saga {

std::string Diagnostic::ToString() const {
  std::string out = location.file.empty() ? std::string("<input>") : location.file;
  if (location.line > 0) {
    out += ':' + std::to_string(location.line) + ':' + std::to_string(location.column);
  }
  out += ": ";
  if (!step_id.empty()) out += "step '" + step_id + "': ";
  if (!field.empty()) out += "field '" + field + "': ";
  out += message;
  return out;
}

void Diagnostics::Add(Diagnostic d) {
  ++total_;
  if (kept_.size() < max_kept_) kept_.push_back(std::move(d));
}

std::vector<Diagnostic> Diagnostics::Sorted() const {
  std::vector<Diagnostic> sorted = kept_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Diagnostic& a, const Diagnostic& b) {
    if (a.location.line != b.location.line) return a.location.line < b.location.line;
    return a.location.column < b.location.column;
  });
  return sorted;
}

std::string Diagnostics::ToString() const {
  std::string out;
  for (const Diagnostic& d : Sorted()) {
    if (!out.empty()) out += '\n';
    out += d.ToString();
  }
  if (total_ > kept_.size()) {
    out += "\n... and " + std::to_string(total_ - kept_.size()) + " more errors";
  }
  return out;
}

Status Diagnostics::ToStatus() const {
  if (empty()) return Status::Ok();
  return InvalidArgument(ToString());
}

}  // namespace tri::saga
