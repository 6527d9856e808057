#pragma once

// Message building for the txn core, which (like every core) does not link fmt.

#include <string>
#include <string_view>
#include <type_traits>

namespace tri::txn {

namespace str_internal {
template <typename T>
void Append(std::string& out, const T& piece) {
  if constexpr (std::is_arithmetic_v<T>) {
    out += std::to_string(piece);
  } else {
    out += std::string_view(piece);
  }
}
}  // namespace str_internal

// Concatenates strings, string views, C strings and numbers.
template <typename... Pieces>
std::string Str(const Pieces&... pieces) {
  std::string out;
  (str_internal::Append(out, pieces), ...);
  return out;
}

}  // namespace tri::txn
