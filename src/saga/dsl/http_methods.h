#pragma once

// The HTTP methods an `http` action may use: exactly those the http runner
// (src/exec/http_runner.cc) sends. The DSL rejects any other method at
// validation, so a saga never fails at run time for a method it was allowed
// to declare.

#include <algorithm>
#include <array>
#include <string>
#include <string_view>

namespace tri::saga {

inline constexpr std::array<std::string_view, 7> kHttpMethods = {
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};

// `method` in upper case.
inline bool IsSupportedHttpMethod(std::string_view method) {
  return std::find(kHttpMethods.begin(), kHttpMethods.end(), method) != kHttpMethods.end();
}

// "GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS", for messages.
inline std::string HttpMethodList() {
  std::string out;
  for (std::size_t i = 0; i < kHttpMethods.size(); ++i) {
    if (i > 0) out += i + 1 == kHttpMethods.size() ? " or " : ", ";
    out += kHttpMethods[i];
  }
  return out;
}

}  // namespace tri::saga
