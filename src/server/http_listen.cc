#include "server/http_listen.h"

#include <fmt/format.h>
#include <httplib.h>
#include <sys/socket.h>

namespace tri::server {

Result<std::uint16_t> BindExclusive(httplib::Server& server, const Url& url, const char* flag) {
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  int port = url.port;
  if (url.port == 0) {
    port = server.bind_to_any_port(url.host);
  } else if (!server.bind_to_port(url.host, url.port)) {
    port = -1;
  }
  if (port <= 0) return Unavailable(fmt::format("{}: cannot listen on {}", flag, url.ToString()));
  return static_cast<std::uint16_t>(port);
}

}  // namespace tri::server
