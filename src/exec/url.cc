#include "exec/url.h"

#include <cctype>
#include <string_view>

namespace tri::exec {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsDnsHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_';
}

bool IsIpv6Char(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
}

}  // namespace

Result<HttpUrl> ParseHttpUrl(const std::string& url) {
  auto bad = [&url](const std::string& why) -> Status {
    return InvalidArgument("invalid URL '" + RedactUrl(url) + "': " + why);
  };
  std::string_view rest(url);
  std::size_t colon = rest.find("://");
  if (colon == std::string_view::npos) return bad("expected scheme://host");
  HttpUrl parsed;
  std::string scheme = Lower(rest.substr(0, colon));
  if (scheme == "http") {
    parsed.https = false;
  } else if (scheme == "https") {
    parsed.https = true;
  } else {
    return bad("unsupported scheme '" + scheme + "' (http and https are)");
  }
  rest.remove_prefix(colon + 3);

  std::size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  rest = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) {
    return bad("credentials in the URL are not supported (use an Authorization header)");
  }

  std::string_view host;
  std::string_view port_text;
  bool bracketed = false;
  if (!authority.empty() && authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated '[' in the host");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("unexpected characters after ']'");
      port_text = after.substr(1);
      if (port_text.empty()) return bad("empty port");
    }
    bracketed = true;
    if (host.empty() || host.find(':') == std::string_view::npos) {
      return bad("bracketed host is not an IPv6 address");
    }
    for (char c : host) {
      if (!IsIpv6Char(c)) return bad("invalid character in the IPv6 address");
    }
  } else {
    std::size_t port_colon = authority.find(':');
    host = authority.substr(0, port_colon);
    if (port_colon != std::string_view::npos) {
      port_text = authority.substr(port_colon + 1);
      if (port_text.empty()) return bad("empty port");
    }
    if (host.empty()) return bad("empty host");
    for (char c : host) {
      if (!IsDnsHostChar(c)) return bad("invalid character in the host");
    }
  }

  parsed.port = parsed.https ? 443 : 80;
  if (!port_text.empty()) {
    if (port_text.size() > 5) return bad("port out of range");
    int port = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9') return bad("port is not a number");
      port = port * 10 + (c - '0');
    }
    if (port < 1 || port > 65535) return bad("port out of range");
    parsed.port = port;
  }
  parsed.host = bracketed ? std::string(host) : Lower(host);
  parsed.host_header = bracketed ? "[" + parsed.host + "]" : parsed.host;
  if (parsed.port != (parsed.https ? 443 : 80)) {
    parsed.host_header += ":" + std::to_string(parsed.port);
  }

  // Path and query; the fragment is client-side only.
  std::string_view target = rest.substr(0, rest.find('#'));
  static constexpr char kHex[] = "0123456789ABCDEF";
  if (target.empty() || target.front() != '/') parsed.target = "/";
  for (char c : target) {
    auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7F) return bad("space or control character in the path");
    if (byte >= 0x80) {
      parsed.target += '%';
      parsed.target += kHex[byte >> 4];
      parsed.target += kHex[byte & 0xF];
    } else {
      parsed.target += c;
    }
  }
  return parsed;
}

namespace {

// "a=1&b&c=3" -> "a=***&***&c=***".
std::string RedactQuery(std::string_view query) {
  std::string out;
  while (true) {
    const std::size_t amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    if (!param.empty()) {
      const std::size_t eq = param.find('=');
      if (eq != std::string_view::npos) out.append(param.substr(0, eq + 1));
      out.append(kRedacted);
    }
    if (amp == std::string_view::npos) break;
    out += '&';
    query.remove_prefix(amp + 1);
  }
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string RedactUrl(std::string_view url) {
  std::string out;
  std::string_view rest = url;
  // Scheme and user info: only where an authority follows "://" (a "://"
  // after the first '/', '?' or '#' is part of the path, query or fragment).
  const std::size_t scheme_end = rest.find("://");
  if (scheme_end != std::string_view::npos &&
      rest.substr(0, scheme_end).find_first_of("/?#") == std::string_view::npos) {
    out.append(rest.substr(0, scheme_end + 3));
    rest.remove_prefix(scheme_end + 3);
    const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
      out.append(kRedacted);
      rest.remove_prefix(at);  // keeps "@host..."
    }
  }
  const std::size_t fragment = rest.find('#');
  const std::string_view before_fragment = rest.substr(0, fragment);
  const std::size_t query = before_fragment.find('?');
  out.append(before_fragment.substr(0, query));
  if (query != std::string_view::npos) {
    out += '?';
    out.append(RedactQuery(before_fragment.substr(query + 1)));
  }
  if (fragment != std::string_view::npos) {
    out += '#';
    out.append(kRedacted);
  }
  return out;
}

bool IsCredentialHeader(std::string_view name) {
  for (std::string_view secret : {"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie"}) {
    if (EqualsIgnoreCase(name, secret)) return true;
  }
  return false;
}

std::string RedactHeaderValue(std::string_view name, std::string_view value) {
  if (!IsCredentialHeader(name)) return std::string(value);
  const bool authorization =
      EqualsIgnoreCase(name, "Authorization") || EqualsIgnoreCase(name, "Proxy-Authorization");
  if (authorization) {
    // "Bearer abc" -> "Bearer ***": the scheme helps debugging, the rest is the secret.
    const std::size_t space = value.find(' ');
    if (space != std::string_view::npos && space > 0) {
      return std::string(value.substr(0, space)) + " " + std::string(kRedacted);
    }
  }
  return std::string(kRedacted);
}

}  // namespace tri::exec
