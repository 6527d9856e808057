// ParseHttpUrl and RedactUrl take URLs rendered from saga templates (user
// data): any bytes must give an error or a URL whose parts are sane, and a
// stable redaction; never a crash.

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/assert.h"
#include "exec/url.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // Redaction takes any text and is a fixed point: what it shows once it
  // shows again unchanged (nothing it hid can reappear).
  const std::string redacted = tri::exec::RedactUrl(text);
  TRI_ASSERT_MSG(tri::exec::RedactUrl(redacted) == redacted, "RedactUrl is not idempotent");
  auto url = tri::exec::ParseHttpUrl(text);
  if (!url.ok()) {
    TRI_ASSERT_MSG(!url.status().message().empty(), "an error without a message");
    return 0;
  }
  TRI_ASSERT_MSG(!url->host.empty(), "empty host accepted");
  TRI_ASSERT_MSG(url->port > 0 && url->port < 65536, "port out of range");
  TRI_ASSERT_MSG(!url->target.empty() && url->target[0] == '/', "target must start with '/'");
  for (char c : url->target) {
    TRI_ASSERT_MSG(static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f,
                   "target carries a byte that must be encoded or rejected");
  }
  return 0;
}
