#pragma once

// The subset of absolute URLs the http action accepts:
//   http[s]://host[:port][/path][?query][#fragment]
// host: a DNS name, an IPv4 address or a bracketed IPv6 address. No user
// info (credentials belong in an Authorization header). The fragment is
// dropped (it is never sent). Bytes >= 0x80 in the path/query are
// percent-encoded; spaces and control characters are rejected.

#include <string>

#include "base/result.h"

namespace tri::exec {

struct HttpUrl {
  bool https = false;
  std::string host;         // without brackets: "example.com", "::1"
  int port = 0;             // explicit or the scheme's default
  std::string target;       // "/path?query", never empty
  std::string host_header;  // value for Host: "example.com", "[::1]:8080"
};

// InvalidArgument naming what is wrong.
Result<HttpUrl> ParseHttpUrl(const std::string& url);

}  // namespace tri::exec
