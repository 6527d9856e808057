#include "client/endpoints.h"

#include <charconv>

namespace tri::client {
namespace {

Result<std::string> ParseOne(std::string_view item) {
  const std::string quoted = "endpoint '" + std::string(item) + "'";
  std::string_view rest = item;
  const bool https = rest.starts_with("https://");
  if (https) {
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  }
  if (rest.find("://") != std::string_view::npos)
    return InvalidArgument(
        quoted + ": unknown scheme; use host:port, http://host:port or https://host:port");
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos)
    return InvalidArgument(quoted + ": a path is not allowed; use host:port");
  const auto colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0)
    return InvalidArgument(quoted + ": expected host:port");
  const std::string_view port_text = rest.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port == 0 || port > 65535)
    return InvalidArgument(quoted + ": port must be a number in 1..65535");
  return (https ? "https://" : "") + std::string(rest);
}

}  // namespace

Result<std::vector<std::string>> ParseEndpoints(std::string_view csv) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = csv.find(',', start);
    const std::string_view item =
        csv.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (item.empty())
      return InvalidArgument("endpoints '" + std::string(csv) + "': empty endpoint in the list");
    if (out.size() == kMaxEndpoints)
      return InvalidArgument("endpoints: more than " + std::to_string(kMaxEndpoints) +
                             " endpoints in the list");
    TRI_ASSIGN_OR_RETURN(std::string target, ParseOne(item));
    out.push_back(std::move(target));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace tri::client
