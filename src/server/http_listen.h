#pragma once

// Binding a cpp-httplib server the way every HTTP listener of a node must: a
// port in use is an error. (cpp-httplib's default socket options include
// SO_REUSEPORT, which lets a second server bind a busy port and share its
// connections; and its bind_to_port answers a bool.)

#include "base/result.h"
#include "server/config.h"

namespace httplib {
class Server;
}

namespace tri::server {

// Binds `server` to `url` (port 0: any free port). Returns the bound port;
// Unavailable naming `flag` and the URL when the address cannot be bound.
Result<std::uint16_t> BindExclusive(httplib::Server& server, const Url& url, const char* flag);

}  // namespace tri::server
