#include "membership/config.h"

#include <string>

namespace tri::membership {
namespace {

Status Positive(std::int64_t value, const char* name) {
  if (value <= 0) {
    return InvalidArgument(std::string("membership config: ") + name + " must be > 0, got " +
                           std::to_string(value));
  }
  return Status::Ok();
}

Status NonNegative(std::int64_t value, const char* name) {
  if (value < 0) {
    return InvalidArgument(std::string("membership config: ") + name + " must be >= 0, got " +
                           std::to_string(value));
  }
  return Status::Ok();
}

}  // namespace

Status Config::Validate() const {
  TRI_RETURN_IF_ERROR(Positive(probe_interval, "probe_interval"));
  TRI_RETURN_IF_ERROR(Positive(probe_timeout, "probe_timeout"));
  if (probe_timeout >= probe_interval) {
    return InvalidArgument("membership config: probe_timeout (" + std::to_string(probe_timeout) +
                           ") must be below probe_interval (" + std::to_string(probe_interval) +
                           ") to leave time for indirect probes");
  }
  TRI_RETURN_IF_ERROR(NonNegative(indirect_checks, "indirect_checks"));
  TRI_RETURN_IF_ERROR(Positive(suspicion_multiplier, "suspicion_multiplier"));
  TRI_RETURN_IF_ERROR(Positive(suspicion_max_multiplier, "suspicion_max_multiplier"));
  TRI_RETURN_IF_ERROR(Positive(suspicion_unit, "suspicion_unit"));
  TRI_RETURN_IF_ERROR(NonNegative(suspicion_confirmations, "suspicion_confirmations"));
  TRI_RETURN_IF_ERROR(NonNegative(confirmation_probes, "confirmation_probes"));
  TRI_RETURN_IF_ERROR(
      NonNegative(max_confirmation_probes_in_flight, "max_confirmation_probes_in_flight"));
  TRI_RETURN_IF_ERROR(Positive(retransmit_multiplier, "retransmit_multiplier"));
  TRI_RETURN_IF_ERROR(Positive(refutation_retransmit_factor, "refutation_retransmit_factor"));
  TRI_RETURN_IF_ERROR(Positive(gossip_interval, "gossip_interval"));
  TRI_RETURN_IF_ERROR(Positive(gossip_fanout, "gossip_fanout"));
  TRI_RETURN_IF_ERROR(Positive(push_pull_interval, "push_pull_interval"));
  TRI_RETURN_IF_ERROR(Positive(join_retry_interval, "join_retry_interval"));
  TRI_RETURN_IF_ERROR(Positive(awareness_max_multiplier, "awareness_max_multiplier"));
  TRI_RETURN_IF_ERROR(Positive(stall_threshold, "stall_threshold"));
  TRI_RETURN_IF_ERROR(NonNegative(stall_grace, "stall_grace"));
  // A packet must hold at least one state entry of maximal size, so that push/pull
  // can always make progress.
  const std::uint64_t largest_entry = 2 * max_name_bytes + max_metadata_bytes + 64;
  if (max_packet_bytes < 64 || max_packet_bytes < largest_entry) {
    return InvalidArgument("membership config: max_packet_bytes (" +
                           std::to_string(max_packet_bytes) +
                           ") must hold one member's largest entry (2 * max_name_bytes + "
                           "max_metadata_bytes + 64 = " +
                           std::to_string(largest_entry) + ")");
  }
  TRI_RETURN_IF_ERROR(Positive(max_members, "max_members"));
  TRI_RETURN_IF_ERROR(Positive(max_name_bytes, "max_name_bytes"));
  TRI_RETURN_IF_ERROR(Positive(max_relays_in_flight, "max_relays_in_flight"));
  return Status::Ok();
}

}  // namespace tri::membership
