#pragma once

// Short builders for KV requests in tests.

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "rsm/kv_types.h"
#include "rsm/mvcc_store.h"

namespace tri::rsm::testing {

inline PutRequest PutReq(std::string key, std::string value) {
  PutRequest r;
  r.key = std::move(key);
  r.value = std::move(value);
  return r;
}

inline RangeRequest RangeReq(std::string key, std::string range_end = "") {
  RangeRequest r;
  r.key = std::move(key);
  r.range_end = std::move(range_end);
  return r;
}

inline DeleteRangeRequest DeleteReq(std::string key, std::string range_end = "") {
  DeleteRangeRequest r;
  r.key = std::move(key);
  r.range_end = std::move(range_end);
  return r;
}

inline Compare Cmp(std::string key, Compare::CompareTarget target, Compare::CompareResult result) {
  Compare c;
  c.key = std::move(key);
  c.target = target;
  c.result = result;
  return c;
}

inline Compare ValueIs(std::string key, std::string value) {
  Compare c = Cmp(std::move(key), Compare::VALUE, Compare::EQUAL);
  c.value = std::move(value);
  return c;
}

inline Compare VersionIs(std::string key, std::int64_t version) {
  Compare c = Cmp(std::move(key), Compare::VERSION, Compare::EQUAL);
  c.version = version;
  return c;
}

inline RequestOp Op(RangeRequest r) {
  return RequestOp{std::move(r)};
}
inline RequestOp Op(PutRequest r) {
  return RequestOp{std::move(r)};
}
inline RequestOp Op(DeleteRangeRequest r) {
  return RequestOp{std::move(r)};
}
inline RequestOp Op(TxnRequest r) {
  return RequestOp{std::move(r)};
}

inline TxnRequest TxnReq(std::vector<Compare> compare, std::vector<RequestOp> success,
                         std::vector<RequestOp> failure = {}) {
  return TxnRequest{std::move(compare), std::move(success), std::move(failure)};
}

// Keys of a range response, in order.
inline std::vector<std::string> Keys(const RangeResponse& r) {
  std::vector<std::string> keys;
  for (const KeyValue& kv : r.kvs)
    keys.push_back(kv.key);
  return keys;
}

// Puts and expects success; returns the revision.
inline std::int64_t MustPut(MvccStore& store, const std::string& key, const std::string& value) {
  auto r = store.Put(PutReq(key, value));
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? r->header.revision : 0;
}

inline RangeResponse MustRange(const MvccStore& store, const RangeRequest& request) {
  auto r = store.Range(request);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : RangeResponse{};
}

}  // namespace tri::rsm::testing
