#include "server/etcd_convert.h"

namespace tri::server {

rsm::RangeRequest FromProto(const etcdserverpb::RangeRequest& in) {
  rsm::RangeRequest r;
  r.key = in.key();
  r.range_end = in.range_end();
  r.limit = in.limit();
  r.revision = in.revision();
  r.sort_order = static_cast<rsm::RangeRequest::SortOrder>(in.sort_order());
  r.sort_target = static_cast<rsm::RangeRequest::SortTarget>(in.sort_target());
  r.serializable = in.serializable();
  r.keys_only = in.keys_only();
  r.count_only = in.count_only();
  r.min_mod_revision = in.min_mod_revision();
  r.max_mod_revision = in.max_mod_revision();
  r.min_create_revision = in.min_create_revision();
  r.max_create_revision = in.max_create_revision();
  return r;
}

rsm::PutRequest FromProto(const etcdserverpb::PutRequest& in) {
  rsm::PutRequest r;
  r.key = in.key();
  r.value = in.value();
  r.lease = in.lease();
  r.prev_kv = in.prev_kv();
  r.ignore_value = in.ignore_value();
  r.ignore_lease = in.ignore_lease();
  return r;
}

rsm::DeleteRangeRequest FromProto(const etcdserverpb::DeleteRangeRequest& in) {
  rsm::DeleteRangeRequest r;
  r.key = in.key();
  r.range_end = in.range_end();
  r.prev_kv = in.prev_kv();
  return r;
}

// Helpers for nested messages; in this namespace (not an anonymous one) so that the
// overload sets of FromProto and ToProto stay whole.
static rsm::Compare FromProto(const etcdserverpb::Compare& in) {
  rsm::Compare c;
  c.result = static_cast<rsm::Compare::CompareResult>(in.result());
  c.target = static_cast<rsm::Compare::CompareTarget>(in.target());
  c.key = in.key();
  c.range_end = in.range_end();
  c.version = in.version();
  c.create_revision = in.create_revision();
  c.mod_revision = in.mod_revision();
  c.value = in.value();
  c.lease = in.lease();
  return c;
}

static rsm::RequestOp FromProto(const etcdserverpb::RequestOp& in) {
  rsm::RequestOp op;
  switch (in.request_case()) {
    case etcdserverpb::RequestOp::kRequestRange:
      op.request = FromProto(in.request_range());
      break;
    case etcdserverpb::RequestOp::kRequestPut:
      op.request = FromProto(in.request_put());
      break;
    case etcdserverpb::RequestOp::kRequestDeleteRange:
      op.request = FromProto(in.request_delete_range());
      break;
    case etcdserverpb::RequestOp::kRequestTxn:
      op.request = FromProto(in.request_txn());
      break;
    case etcdserverpb::RequestOp::REQUEST_NOT_SET:
      // etcd treats an empty op as an empty range request on key "".
      op.request = rsm::RangeRequest{};
      break;
  }
  return op;
}

static void ToProto(const rsm::ResponseOp& in, etcdserverpb::ResponseOp* out) {
  std::visit(
      [&](const auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, rsm::RangeResponse>) {
          ToProto(r, out->mutable_response_range());
        } else if constexpr (std::is_same_v<T, rsm::PutResponse>) {
          ToProto(r, out->mutable_response_put());
        } else if constexpr (std::is_same_v<T, rsm::DeleteRangeResponse>) {
          ToProto(r, out->mutable_response_delete_range());
        } else {
          ToProto(r, out->mutable_response_txn());
        }
      },
      in.response);
}

rsm::TxnRequest FromProto(const etcdserverpb::TxnRequest& in) {
  rsm::TxnRequest r;
  for (const auto& c : in.compare())
    r.compare.push_back(FromProto(c));
  for (const auto& op : in.success())
    r.success.push_back(FromProto(op));
  for (const auto& op : in.failure())
    r.failure.push_back(FromProto(op));
  return r;
}

rsm::CompactionRequest FromProto(const etcdserverpb::CompactionRequest& in) {
  rsm::CompactionRequest r;
  r.revision = in.revision();
  r.physical = in.physical();
  return r;
}

void ToProto(const rsm::KeyValue& in, mvccpb::KeyValue* out) {
  out->set_key(in.key);
  out->set_create_revision(in.create_revision);
  out->set_mod_revision(in.mod_revision);
  out->set_version(in.version);
  out->set_value(in.value);
  out->set_lease(in.lease);
}

void ToProto(const rsm::RangeResponse& in, etcdserverpb::RangeResponse* out) {
  out->mutable_header()->set_revision(in.header.revision);
  out->mutable_kvs()->Reserve(static_cast<int>(in.kvs.size()));
  for (const auto& kv : in.kvs)
    ToProto(kv, out->add_kvs());
  out->set_more(in.more);
  out->set_count(in.count);
}

void ToProto(const rsm::PutResponse& in, etcdserverpb::PutResponse* out) {
  out->mutable_header()->set_revision(in.header.revision);
  if (in.prev_kv) ToProto(*in.prev_kv, out->mutable_prev_kv());
}

void ToProto(const rsm::DeleteRangeResponse& in, etcdserverpb::DeleteRangeResponse* out) {
  out->mutable_header()->set_revision(in.header.revision);
  out->set_deleted(in.deleted);
  for (const auto& kv : in.prev_kvs)
    ToProto(kv, out->add_prev_kvs());
}

void ToProto(const rsm::TxnResponse& in, etcdserverpb::TxnResponse* out) {
  out->mutable_header()->set_revision(in.header.revision);
  out->set_succeeded(in.succeeded);
  for (const auto& op : in.responses)
    ToProto(op, out->add_responses());
}

void ToProto(const rsm::CompactionResponse& in, etcdserverpb::CompactionResponse* out) {
  out->mutable_header()->set_revision(in.header.revision);
}

}  // namespace tri::server
