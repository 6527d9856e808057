#include "saga/saga_id.h"

#include <gtest/gtest.h>

#include <set>

namespace tri::saga {
namespace {

TEST(SagaId, GeneratedIdsAreValidUniqueAndSortByTime) {
  SeededRng rng(7);
  std::set<std::string> seen;
  std::string previous;
  for (std::uint64_t ms = 1'700'000'000'000; ms < 1'700'000'000'000 + 500; ++ms) {
    const std::string id = NewSagaId(ms, rng);
    EXPECT_EQ(id.size(), kUlidLength);
    EXPECT_TRUE(ValidateSagaId(id).ok()) << id;
    EXPECT_TRUE(seen.insert(id).second) << "duplicate " << id;
    EXPECT_LT(previous, id) << "ids of later milliseconds sort later";
    previous = id;
  }
}

TEST(SagaId, SameMillisecondDiffersInRandomPart) {
  SeededRng rng(1);
  const std::string a = NewSagaId(42, rng);
  const std::string b = NewSagaId(42, rng);
  EXPECT_EQ(a.substr(0, 10), b.substr(0, 10));
  EXPECT_NE(a, b);
}

TEST(SagaId, ClientIdsAreCheckedAndErrorsNameTheByte) {
  EXPECT_TRUE(ValidateSagaId("order-2026.11_27~a").ok());
  EXPECT_FALSE(ValidateSagaId("").ok());
  EXPECT_FALSE(ValidateSagaId("..").ok());
  EXPECT_FALSE(ValidateSagaId(std::string(kMaxSagaIdBytes + 1, 'a')).ok());
  const Status slash = ValidateSagaId("a/b");
  ASSERT_FALSE(slash.ok());
  EXPECT_NE(slash.message().find("0x2F at position 1"), std::string::npos) << slash.message();
}

}  // namespace
}  // namespace tri::saga
