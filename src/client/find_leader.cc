#include "client/find_leader.h"

#include "client/etcd_client.h"

namespace tri::client {

Result<std::string> FindLeaderEndpoint(const std::vector<std::string>& endpoints,
                                       const ClientTls& tls, std::chrono::milliseconds dial_timeout,
                                       std::chrono::milliseconds request_timeout) {
  ClientOptions client_options;
  client_options.endpoints = endpoints;
  client_options.tls = tls;
  client_options.dial_timeout = dial_timeout;
  client_options.command_timeout = request_timeout;
  TRI_ASSIGN_OR_RETURN(auto client, EtcdClient::Connect(client_options));
  std::string errors;
  for (const std::string& ep : endpoints) {
    auto status = client->Status(ep);
    if (!status.ok()) {
      errors += "; " + ep + ": " + status.status().message();
      continue;
    }
    if (status->leader() != 0 && status->leader() == status->header().member_id()) return ep;
  }
  return Unavailable("bench --target-leader: no endpoint reports itself leader" + errors);
}

}  // namespace tri::client
