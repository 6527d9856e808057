#include "client/etcdctl_ops.h"

#include <gtest/gtest.h>

#include <sstream>

namespace tri::client {
namespace {

const std::string kNul(1, '\0');

TEST(PrefixRangeEnd, IncrementsTheLastByteBelow0xffAndDropsTheRest) {
  EXPECT_EQ(PrefixRangeEnd("abc"), "abd");
  EXPECT_EQ(PrefixRangeEnd(std::string("a\xff\xff", 3)), "b");
  EXPECT_EQ(PrefixRangeEnd(std::string("\xff\xff", 2)), kNul);
}

TEST(BuildGetRequest, PrefixFromKeyAndEmptyKeyFollowClientv3) {
  GetFlags prefix;
  prefix.prefix = true;
  auto r = BuildGetRequest({"foo"}, prefix);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->key(), "foo");
  EXPECT_EQ(r->range_end(), "fop");

  r = BuildGetRequest({""}, prefix);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->key(), kNul);
  EXPECT_EQ(r->range_end(), kNul);

  GetFlags from_key;
  from_key.from_key = true;
  r = BuildGetRequest({"b"}, from_key);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->key(), "b");
  EXPECT_EQ(r->range_end(), kNul);
}

TEST(BuildGetRequest, KeyAscendingIsSentAsNoSortAndOtherSortsAsGiven) {
  GetFlags f;
  f.order = "ascend";
  auto r = BuildGetRequest({"a"}, f);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->sort_order(), etcdserverpb::RangeRequest::NONE);
  f.sort_by = "modify";
  f.order = "DESCEND";
  r = BuildGetRequest({"a"}, f);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->sort_order(), etcdserverpb::RangeRequest::DESCEND);
  EXPECT_EQ(r->sort_target(), etcdserverpb::RangeRequest::MOD);
}

TEST(BuildGetRequest, RefusesContradictoryOrUnknownFlags) {
  GetFlags both;
  both.prefix = both.from_key = true;
  EXPECT_FALSE(BuildGetRequest({"a"}, both).ok());
  GetFlags prefix;
  prefix.prefix = true;
  EXPECT_FALSE(BuildGetRequest({"a", "b"}, prefix).ok());
  GetFlags bad_sort;
  bad_sort.sort_by = "size";
  EXPECT_FALSE(BuildGetRequest({"a"}, bad_sort).ok());
  GetFlags bad_consistency;
  bad_consistency.consistency = "x";
  EXPECT_FALSE(BuildGetRequest({"a"}, bad_consistency).ok());
  EXPECT_FALSE(BuildGetRequest({}, GetFlags{}).ok());
}

TEST(BuildPutRequest, ParsesTheLeaseInHex) {
  PutFlags f;
  f.lease = "1f";
  f.prev_kv = true;
  auto r = BuildPutRequest({"k", "v"}, f);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->lease(), 31);
  EXPECT_TRUE(r->prev_kv());
  f.lease = "zz";
  EXPECT_FALSE(BuildPutRequest({"k", "v"}, f).ok());
  EXPECT_FALSE(BuildPutRequest({"k"}, PutFlags{}).ok());
}

TEST(ParseCompare, ReadsEachTargetAndOperator) {
  auto c = ParseCompare(R"(mod("k1") > "5")");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->target(), etcdserverpb::Compare::MOD);
  EXPECT_EQ(c->result(), etcdserverpb::Compare::GREATER);
  EXPECT_EQ(c->key(), "k1");
  EXPECT_EQ(c->mod_revision(), 5);

  c = ParseCompare(R"(value("a b") != "x \"y\"")");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->key(), "a b");
  EXPECT_EQ(c->value(), "x \"y\"");
  EXPECT_EQ(c->result(), etcdserverpb::Compare::NOT_EQUAL);

  c = ParseCompare(R"(ver("k") = "0")");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->target(), etcdserverpb::Compare::VERSION);
  c = ParseCompare(R"(c("k") < "3")");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->create_revision(), 3);
  c = ParseCompare(R"(lease("k") = "ff")");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->lease(), 255);
}

TEST(ParseCompare, RefusesMalformedLinesNamingThem) {
  for (const char* line : {R"(mod(k) > "5")", R"(mod("k") >= "5")", R"(size("k") = "1")",
                           R"(mod("k") > "x")", R"(mod("k") > "5" extra)", "plain"}) {
    auto c = ParseCompare(line);
    ASSERT_FALSE(c.ok()) << line;
    EXPECT_NE(c.status().message().find("malformed comparison"), std::string::npos)
        << c.status().message();
  }
}

TEST(ParseTxn, ReadsCompareSuccessAndFailureSections) {
  std::istringstream in(
      "mod(\"k\") > \"0\"\nvalue(\"k\") = \"v\"\n\nput k \"v 2\" --prev-kv\nget k --prefix\n\n"
      "del k --from-key\nput 'q r' s\n");
  auto t = ParseTxn(in);
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_EQ(t->compare_size(), 2);
  ASSERT_EQ(t->success_size(), 2);
  ASSERT_EQ(t->failure_size(), 2);
  EXPECT_EQ(t->success(0).request_put().value(), "v 2");
  EXPECT_TRUE(t->success(0).request_put().prev_kv());
  EXPECT_EQ(t->success(1).request_range().range_end(), "l");
  EXPECT_EQ(t->failure(0).request_delete_range().range_end(), kNul);
  EXPECT_EQ(t->failure(1).request_put().key(), "q r");
}

TEST(ParseTxn, RefusesAnUnknownOpOrFlag) {
  std::istringstream unknown_op("\nwatch k\n");
  EXPECT_FALSE(ParseTxn(unknown_op).ok());
  std::istringstream unknown_flag("\nget k --nope\n");
  auto t = ParseTxn(unknown_flag);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("unknown flag: --nope"), std::string::npos);
}

}  // namespace
}  // namespace tri::client
