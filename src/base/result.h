#pragma once

#include <optional>
#include <type_traits>
#include <utility>

#include "base/assert.h"
#include "base/status.h"

namespace tri {

// Either a value or a non-ok Status. Accessing the value of an error (or the
// error of a value) is a programming error and stops the process.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    TRI_ASSERT_MSG(!status_.ok(), "Result constructed from an ok Status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & {
    TRI_ASSERT_MSG(ok(), "Result::value() on an error");
    return *value_;
  }
  const T& value() const& {
    TRI_ASSERT_MSG(ok(), "Result::value() on an error");
    return *value_;
  }
  T&& value() && {
    TRI_ASSERT_MSG(ok(), "Result::value() on an error");
    return std::move(*value_);
  }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return ok() ? *value_ : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace tri

#define TRI_CONCAT_INNER_(a, b) a##b
#define TRI_CONCAT_(a, b) TRI_CONCAT_INNER_(a, b)

// `TRI_ASSIGN_OR_RETURN(auto x, Compute());` declares x from the value, or
// returns the error Status from the enclosing function.
#define TRI_ASSIGN_OR_RETURN(lhs, expr) \
  TRI_ASSIGN_OR_RETURN_IMPL_(TRI_CONCAT_(tri_result_, __LINE__), lhs, expr)
#define TRI_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()
