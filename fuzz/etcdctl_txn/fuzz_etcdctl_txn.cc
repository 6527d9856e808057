// `tri kv txn` reads etcdctl's txn text from stdin (user data); the endpoint
// list comes from the command line. Any bytes must give an error with a message
// or a well-formed request; never a crash.

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include "base/assert.h"
#include "client/endpoints.h"
#include "client/etcdctl_ops.h"

namespace {

void CheckRange(const etcdserverpb::RangeRequest& r) {
  TRI_ASSERT_MSG(r.limit() >= 0, "negative limit accepted");
  TRI_ASSERT_MSG(r.sort_target() != etcdserverpb::RangeRequest::KEY ||
                     r.sort_order() != etcdserverpb::RangeRequest::ASCEND,
                 "key-ascending sort must be sent as no sort");
}

void CheckOp(const etcdserverpb::RequestOp& op) {
  TRI_ASSERT_MSG(op.request_case() != etcdserverpb::RequestOp::REQUEST_NOT_SET, "empty op");
  TRI_ASSERT_MSG(!op.has_request_txn(), "nested txn from text");
  if (op.has_request_range()) CheckRange(op.request_range());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::istringstream in(text);
  auto txn = tri::client::ParseTxn(in);
  if (!txn.ok()) {
    TRI_ASSERT_MSG(!txn.status().message().empty(), "an error without a message");
  } else {
    const int items = txn->compare_size() + txn->success_size() + txn->failure_size();
    TRI_ASSERT_MSG(static_cast<std::size_t>(items) <= tri::client::kMaxTxnLines, "over the bound");
    for (const auto& op : txn->success())
      CheckOp(op);
    for (const auto& op : txn->failure())
      CheckOp(op);
  }
  auto endpoints = tri::client::ParseEndpoints(text);
  if (endpoints.ok()) {
    TRI_ASSERT_MSG(!endpoints->empty() && endpoints->size() <= tri::client::kMaxEndpoints,
                   "endpoint count out of bounds");
    for (const std::string& endpoint : *endpoints) {
      // An https endpoint keeps its scheme (it is dialled with TLS); nothing else may.
      const std::string_view ep = std::string_view(endpoint).starts_with("https://")
                                      ? std::string_view(endpoint).substr(8)
                                      : std::string_view(endpoint);
      TRI_ASSERT_MSG(
          ep.find(',') == std::string_view::npos && ep.find('/') == std::string_view::npos,
          "endpoint with a separator or path accepted");
    }
  }
  return 0;
}
