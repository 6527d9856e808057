#pragma once

#include <grpcpp/support/status.h>

#include <string_view>

#include "base/status.h"

namespace tri::client {

// Maps a gRPC status to a Status with the same meaning and the server's message
// unchanged (etcd's messages, e.g. "etcdserver: requested lease not found", are
// what people grep for). gRPC codes map one to one onto StatusCode, except
// UNKNOWN (-> kInternal) and UNAUTHENTICATED (-> kPermissionDenied); those two
// keep the gRPC code's name in front of the message.
Status FromGrpcStatus(const grpc::Status& status);

// The gRPC code a Status returned by EtcdClient carries (inverse of the map above).
grpc::StatusCode GrpcCodeOf(const Status& status);

}  // namespace tri::client
