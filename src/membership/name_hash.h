#pragma once

// A transparent hash for member names, so that hash maps keyed by std::string are
// looked up with a std::string_view without building a string per lookup.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace tri::membership {

struct NameHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view name) const {
    return std::hash<std::string_view>{}(name);
  }
  std::size_t operator()(const std::string& name) const {
    return std::hash<std::string_view>{}(name);
  }
};

}  // namespace tri::membership
