#include "client/etcdctl_format.h"

#include <gtest/gtest.h>

namespace tri::client {
namespace {

TEST(GoJson, OmitsZeroValuesAndWritesBytesInBase64LikeEtcdctl) {
  etcdserverpb::RangeResponse r;
  r.mutable_header()->set_cluster_id(324952591200643719ULL);
  r.mutable_header()->set_revision(3);
  mvccpb::KeyValue* kv = r.add_kvs();
  kv->set_key("foo");
  kv->set_value("bar");
  kv->set_create_revision(2);
  r.set_count(1);
  EXPECT_EQ(GoJson(r), R"({"header":{"cluster_id":324952591200643719,"revision":3},)"
                       R"("kvs":[{"key":"Zm9v","create_revision":2,"value":"YmFy"}],"count":1})");
}

TEST(GoJson, WritesOneofsAsGoInterfaceFieldsAndEscapesHtml) {
  etcdserverpb::TxnResponse r;
  r.set_succeeded(true);
  r.add_responses()->mutable_response_put();
  EXPECT_EQ(GoJson(r), R"({"succeeded":true,"responses":[{"Response":{"ResponsePut":{}}}]})");
  etcdserverpb::Member m;
  m.set_name("a<b>&");
  EXPECT_EQ(GoJson(m), R"({"name":"a\u003cb\u003e\u0026"})");
}

TEST(HumanizeBytes, MatchesGoHumanize) {
  EXPECT_EQ(HumanizeBytes(7), "7 B");
  EXPECT_EQ(HumanizeBytes(20480), "20 kB");
  EXPECT_EQ(HumanizeBytes(1500000), "1.5 MB");
  EXPECT_EQ(HumanizeBytes(999), "999 B");
}

TEST(GoDuration, MatchesTimeDurationString) {
  using std::chrono::nanoseconds;
  EXPECT_EQ(GoDuration(nanoseconds(0)), "0s");
  EXPECT_EQ(GoDuration(nanoseconds(850)), "850ns");
  EXPECT_EQ(GoDuration(nanoseconds(863985)), "863.985\xC2\xB5s");
  EXPECT_EQ(GoDuration(nanoseconds(2907606)), "2.907606ms");
  EXPECT_EQ(GoDuration(nanoseconds(3000000)), "3ms");
  EXPECT_EQ(GoDuration(nanoseconds(1500000000)), "1.5s");
  EXPECT_EQ(GoDuration(nanoseconds(61000000000)), "1m1s");
}

TEST(RenderTable, CentersUppercaseHeadersAndRightAlignsCells) {
  EXPECT_EQ(RenderTable({"endpoint", "health"}, {{"127.0.0.1:2379", "true"}}),
            "+----------------+--------+\n"
            "|    ENDPOINT    | HEALTH |\n"
            "+----------------+--------+\n"
            "| 127.0.0.1:2379 |   true |\n"
            "+----------------+--------+\n");
}

TEST(MemberListRows, MarksUnnamedMembersUnstarted) {
  etcdserverpb::MemberListResponse r;
  etcdserverpb::Member* m = r.add_members();
  m->set_id(0x2e1259d415f2a040ULL);
  m->add_peerurls("http://a:1");
  m->add_peerurls("http://b:2");
  m->set_islearner(true);
  const auto rows = MemberListRows(r);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"2e1259d415f2a040", "unstarted", "",
                                               "http://a:1,http://b:2", "", "true"}));
}

}  // namespace
}  // namespace tri::client
