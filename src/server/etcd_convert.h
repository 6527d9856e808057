#pragma once

// Conversions between etcd's protobuf messages (api/proto) and the state
// machine's plain types (rsm/kv_types.h). Field by field, no semantics.

#include "etcdserverpb/rpc.pb.h"
#include "rsm/kv_types.h"

namespace tri::server {

rsm::RangeRequest FromProto(const etcdserverpb::RangeRequest& in);
rsm::PutRequest FromProto(const etcdserverpb::PutRequest& in);
rsm::DeleteRangeRequest FromProto(const etcdserverpb::DeleteRangeRequest& in);
rsm::TxnRequest FromProto(const etcdserverpb::TxnRequest& in);
rsm::CompactionRequest FromProto(const etcdserverpb::CompactionRequest& in);

// Responses; the header's revision comes from the rsm response, the rest of the
// header (cluster, member, term) is the caller's.
void ToProto(const rsm::KeyValue& in, mvccpb::KeyValue* out);
void ToProto(const rsm::RangeResponse& in, etcdserverpb::RangeResponse* out);
void ToProto(const rsm::PutResponse& in, etcdserverpb::PutResponse* out);
void ToProto(const rsm::DeleteRangeResponse& in, etcdserverpb::DeleteRangeResponse* out);
void ToProto(const rsm::TxnResponse& in, etcdserverpb::TxnResponse* out);
void ToProto(const rsm::CompactionResponse& in, etcdserverpb::CompactionResponse* out);

}  // namespace tri::server
