#include "rsm/reserved_keys.h"

#include <string>

namespace tri::rsm {

namespace {

// Keys are arbitrary bytes up to the request size: quote at most 128 of them.
std::string Quote(std::string_view bytes) {
  constexpr std::size_t kMaxShown = 128;
  std::string out = "\"";
  out.append(bytes.substr(0, kMaxShown));
  out += bytes.size() > kMaxShown ? "\"..." : "\"";
  return out;
}

}  // namespace

KvError ErrReservedKey(std::string_view key, std::string_view range_end) {
  std::string what;
  if (range_end.empty()) {
    what = "key " + Quote(key) + " is";
  } else if (range_end == std::string_view("\0", 1)) {
    what = "the range from key " + Quote(key) + " to the end includes keys";
  } else {
    what = "the range [" + Quote(key) + ", " + Quote(range_end) + ") includes keys";
  }
  return KvError{GrpcCode::kInvalidArgument,
                 "rsm: " + what + " under the reserved prefix \"" + std::string(kReservedPrefix) +
                     "\", which only Trinity writes (reading them is allowed)"};
}

}  // namespace tri::rsm
