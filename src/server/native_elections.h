#pragma once

// trinity.v1.Elections (src/api/proto/trinity/v1/coordination.proto;
// docs/coordination.md "Elections"): etcd's election recipe
// (client/concurrency.h) run on the node against itself, as the v3election
// service does (server/election_services.h), with a candidate's own name for
// its key and a fencing token per term of leadership.
//
// Keys (plain KV keys, readable and watchable by any etcd client):
//   trinity/elections/<election>/candidates/<candidate>  a candidate's entry:
//       its value is what it proclaims; the oldest entry (smallest create
//       revision) leads; written under the candidate's lease, if any.
//   trinity/elections/<election>/fence  the fence key: the current leader's
//       token as decimal text, written under its lease before Campaign
//       answers, deleted when it resigns (and with its lease).
// The token of a term is the create revision of the leader's entry: strictly
// increasing across terms, since a new entry is written for each campaign
// after the previous one's deletion. Guard a KV write with the Txn compare
// value(fence_key) == token: it fails once that leadership ended.
//
// Errors (gRPC codes): INVALID_ARGUMENT an empty or over-long election or
// candidate name, a negative TTL, both ttl_seconds and lease; NOT_FOUND no
// leader (Leader), an unknown lease (Campaign); FAILED_PRECONDITION resigning a
// candidate that is not campaigning; the KV services' own otherwise.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace grpc {
class Service;
}

namespace tri::server {

class SelfChannel;

struct NativeElectionOptions {
  // Bound on the election and candidate names, in bytes.
  std::size_t max_name_bytes = 1024;
};

// The key prefix of election `election`'s candidates.
std::string ElectionCandidatesPrefix(std::string_view election);
// The fence key of `election`.
std::string ElectionFenceKey(std::string_view election);

// Makes the synchronous service over `self`; the caller registers it (and
// keeps it, and `self`, alive while the server runs).
std::unique_ptr<grpc::Service> MakeNativeElectionService(SelfChannel& self,
                                                         NativeElectionOptions options);

}  // namespace tri::server
