#include "saga/spec.h"

namespace tri::saga {

const char* ActionKindName(const Action& action) {
  static constexpr const char* kNames[] = {"noop", "sleep", "fail", "exec", "http"};
  static_assert(std::variant_size_v<Action> == 5);
  return kNames[action.index()];
}

}  // namespace tri::saga
