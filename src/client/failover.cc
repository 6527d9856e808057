#include "client/failover.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <algorithm>

namespace tri::client {

std::shared_ptr<grpc::Channel> DialChannel(const std::string& endpoint, int connection_index,
                                           int max_receive_message_bytes, const ClientTls& tls) {
  grpc::ChannelArguments args;
  // A local subchannel pool plus a distinguishing argument keeps channels from
  // sharing one connection.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("tri.connection_index", connection_index);
  args.SetMaxReceiveMessageSize(max_receive_message_bytes);
  const DialTarget target = ResolveDialTarget(endpoint, tls);
  return grpc::CreateCustomChannel(target.target, ChannelCredentials(target, tls), args);
}

Result<std::size_t> FirstReadyChannel(const std::vector<grpc::Channel*>& channels,
                                      const std::vector<std::string>& targets,
                                      std::chrono::milliseconds dial_timeout) {
  const SteadyClock::time_point deadline = SteadyClock::now() + dial_timeout;
  // A channel only makes progress while some thread polls, which
  // WaitForStateChange does (briefly, for each channel in turn).
  for (grpc::Channel* channel : channels)
    channel->GetState(/*try_to_connect=*/true);
  while (SteadyClock::now() < deadline) {
    for (std::size_t i = 0; i < channels.size(); ++i) {
      const grpc_connectivity_state state = channels[i]->GetState(true);
      if (state == GRPC_CHANNEL_READY) return i;
      const SteadyClock::time_point slice =
          std::min(deadline, SteadyClock::now() + std::chrono::milliseconds(10));
      channels[i]->WaitForStateChange(state, ToSystemDeadline(slice));
    }
  }
  std::string joined;
  for (const std::string& t : targets)
    joined += (joined.empty() ? "" : ",") + t;
  return DeadlineExceeded("context deadline exceeded (no connection to " + joined + " within " +
                          std::to_string(dial_timeout.count()) + "ms)");
}

}  // namespace tri::client
