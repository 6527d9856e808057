#include "client/kv_bench.h"

#include <gtest/gtest.h>

namespace tri::client {
namespace {

TEST(ValidateBenchOptions, AcceptsTheDefaults) {
  EXPECT_TRUE(ValidateBenchOptions({}).ok());
}

TEST(ValidateBenchOptions, RefusesEachOptionBeyondItsBoundNamingIt) {
  const struct {
    void (*mutate)(BenchOptions&);
    const char* flag;
  } cases[] = {
      {[](BenchOptions& o) { o.total = 0; }, "--total"},
      {[](BenchOptions& o) { o.total = kMaxBenchTotal + 1; }, "--total"},
      {[](BenchOptions& o) { o.clients = 0; }, "--clients"},
      {[](BenchOptions& o) { o.conns = kMaxBenchConns + 1; }, "--conns"},
      {[](BenchOptions& o) { o.key_size = 0; }, "--key-size"},
      {[](BenchOptions& o) { o.val_size = kMaxBenchValueBytes + 1; }, "--val-size"},
      {[](BenchOptions& o) { o.key_space_size = 0; }, "--key-space-size"},
      {[](BenchOptions& o) {
         o.key_size = 1;
         o.key_space_size = 257;
       },
       "--key-space-size"},
      {[](BenchOptions& o) {
         o.op = BenchOp::kTxn;
         o.txn_ops = 2;
       },
       "--txn-ops"},
      {[](BenchOptions& o) { o.endpoints.clear(); }, "--endpoints"},
  };
  for (const auto& c : cases) {
    BenchOptions o;
    c.mutate(o);
    const Status st = ValidateBenchOptions(o);
    ASSERT_FALSE(st.ok()) << c.flag;
    EXPECT_NE(st.message().find(c.flag), std::string::npos) << st.message();
  }
}

TEST(BenchReportJson, IsOneObjectWithUnitsInTheNames) {
  BenchReport r;
  r.op = "put";
  r.requests = 10;
  r.first_error = "a\"b";
  const std::string json = BenchReportJson(r, BenchOptions{});
  EXPECT_EQ(json.front(), '{');
  EXPECT_EQ(json.back(), '}');
  EXPECT_NE(json.find("\"latency_p99_ms\":"), std::string::npos);
  EXPECT_NE(json.find("\"first_error\":\"a\\\"b\""), std::string::npos);
}

}  // namespace
}  // namespace tri::client
