#include "saga/dsl/duration.h"

#include <cstdint>
#include <limits>

#include "base/assert.h"

namespace tri::saga {
namespace {

struct Unit {
  std::string_view name;
  std::int64_t ns;
};

// Longest names first where one is a prefix of another ("ms" before "m").
constexpr Unit kUnits[] = {
    {"ns", 1},
    {"us", 1'000},
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
    {"h", 3'600'000'000'000},
};

// Durations beyond this are almost certainly typos; also keeps the int64 math safe.
constexpr std::int64_t kMaxNs = std::int64_t{365} * 24 * 3'600'000'000'000;

Status Bad(std::string_view text, std::string_view why) {
  return InvalidArgument("bad duration '" + std::string(text) + "': " + std::string(why));
}

}  // namespace

Result<Duration> ParseDuration(std::string_view text) {
  if (text.empty()) return Bad(text, "empty (write e.g. 250ms, 1.5s, 2m)");
  if (text == "0") return Duration{0};
  std::size_t pos = 0;
  long double total_ns = 0;
  while (pos < text.size()) {
    // Number: digits with at most one '.', at least one digit.
    const std::size_t number_start = pos;
    long double value = 0;
    long double scale = 0;  // 0 = before the point; else the next fraction digit's weight
    int digits = 0;
    while (pos < text.size() && ((text[pos] >= '0' && text[pos] <= '9') || text[pos] == '.')) {
      if (text[pos] == '.') {
        if (scale != 0) return Bad(text, "more than one '.' in a number");
        scale = 0.1L;
      } else {
        const int digit = text[pos] - '0';
        if (scale == 0) {
          value = value * 10 + digit;
        } else {
          value += digit * scale;
          scale /= 10;
        }
        if (++digits > 30) return Bad(text, "number too long");
      }
      ++pos;
    }
    if (digits == 0) {
      if (pos < text.size() && text[pos] == '-') return Bad(text, "durations cannot be negative");
      if (number_start > 0) return Bad(text, "unexpected '" + std::string(text.substr(pos)) + "'");
      return Bad(text, "expected a number followed by a unit (ns, us, ms, s, m, h)");
    }
    // Unit.
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (text.substr(pos, u.name.size()) == u.name) {
        // "m" must not swallow the "m" of "ms": kUnits lists "ms" first, and
        // "s" after "ms"/"ns"/"us", so the first match is the longest.
        unit = &u;
        break;
      }
    }
    if (unit == nullptr) {
      return Bad(text, pos == text.size() ? "missing unit (ns, us, ms, s, m or h)"
                                          : "unknown unit '" + std::string(text.substr(pos)) +
                                                "' (use ns, us, ms, s, m or h)");
    }
    pos += unit->name.size();
    total_ns += value * static_cast<long double>(unit->ns);
    if (total_ns > static_cast<long double>(kMaxNs)) return Bad(text, "longer than 365 days");
  }
  const auto ns = static_cast<std::int64_t>(total_ns + 0.5L);
  TRI_ASSERT(ns >= 0 && ns <= kMaxNs);
  return Duration{ns};
}

std::string FormatDuration(Duration d) {
  TRI_ASSERT(d.count() >= 0);
  std::int64_t ns = d.count();
  if (ns == 0) return "0";
  std::string out;
  // Whole hours and minutes first, then the rest in the largest exact unit.
  for (const Unit& u : {kUnits[5], kUnits[4]}) {
    const std::int64_t whole = ns / u.ns;
    if (whole > 0) {
      out += std::to_string(whole) + std::string(u.name);
      ns -= whole * u.ns;
    }
  }
  if (ns == 0) return out;
  for (const Unit& u : {kUnits[3], kUnits[2], kUnits[1], kUnits[0]}) {
    if (ns % u.ns == 0) return out + std::to_string(ns / u.ns) + std::string(u.name);
  }
  TRI_UNREACHABLE();
}

}  // namespace tri::saga
