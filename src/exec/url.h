#pragma once

// The subset of absolute URLs the http action accepts:
//   http[s]://host[:port][/path][?query][#fragment]
// host: a DNS name, an IPv4 address or a bracketed IPv6 address. No user
// info (credentials belong in an Authorization header). The fragment is
// dropped (it is never sent). Bytes >= 0x80 in the path/query are
// percent-encoded; spaces and control characters are rejected.

#include <string>
#include <string_view>

#include "base/result.h"

namespace tri::exec {

struct HttpUrl {
  bool https = false;
  std::string host;         // without brackets: "example.com", "::1"
  int port = 0;             // explicit or the scheme's default
  std::string target;       // "/path?query", never empty
  std::string host_header;  // value for Host: "example.com", "[::1]:8080"
};

// InvalidArgument naming what is wrong (the URL quoted redacted).
Result<HttpUrl> ParseHttpUrl(const std::string& url);

// --- redaction: every message or log line that shows a URL or a header goes
// through these, so that credentials never reach a terminal, a trace or a log.

inline constexpr std::string_view kRedacted = "***";

// `url` (any text, valid URL or not) with credentials hidden: user info
// ("user:pass@") becomes "***@", each query parameter's value becomes "***"
// (a parameter without "=" becomes "***"), a fragment becomes "#***".
// Scheme, host, port and path are kept: "https://***@api.example/pay?token=***".
std::string RedactUrl(std::string_view url);

// True for headers whose values are credentials: Authorization,
// Proxy-Authorization, Cookie, Set-Cookie (case-insensitive).
bool IsCredentialHeader(std::string_view name);

// `value` as it may be shown: "***" for a credential header, kept otherwise.
// An Authorization value keeps its scheme ("Bearer ***").
std::string RedactHeaderValue(std::string_view name, std::string_view value);

}  // namespace tri::exec
