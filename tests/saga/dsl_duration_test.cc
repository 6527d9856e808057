#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "saga/dsl/duration.h"

namespace tri::saga {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;

Duration Parsed(std::string_view text) {
  auto d = ParseDuration(text);
  EXPECT_TRUE(d.ok()) << text << ": " << d.status().ToString();
  return d.ok() ? *d : Duration{-1};
}

TEST(DslDuration, ParsesEveryUnit) {
  EXPECT_EQ(Parsed("10ns"), nanoseconds(10));
  EXPECT_EQ(Parsed("100us"), microseconds(100));
  EXPECT_EQ(Parsed("250ms"), milliseconds(250));
  EXPECT_EQ(Parsed("3s"), seconds(3));
  EXPECT_EQ(Parsed("2m"), minutes(2));
  EXPECT_EQ(Parsed("1h"), hours(1));
  EXPECT_EQ(Parsed("0"), Duration{0});
  EXPECT_EQ(Parsed("0s"), Duration{0});
}

TEST(DslDuration, ParsesFractionsAndCombinations) {
  EXPECT_EQ(Parsed("1.5s"), milliseconds(1500));
  EXPECT_EQ(Parsed("0.1s"), milliseconds(100));
  EXPECT_EQ(Parsed(".5ms"), microseconds(500));
  EXPECT_EQ(Parsed("1m30s"), seconds(90));
  EXPECT_EQ(Parsed("1h2m3s4ms"), hours(1) + minutes(2) + seconds(3) + milliseconds(4));
}

TEST(DslDuration, RejectsBadTextNamingIt) {
  for (const char* bad : {"", "5", "abc", "5x", "-1s", "1.2.3s", "5s!", "ms", "1e3s", " 5s"}) {
    auto d = ParseDuration(bad);
    ASSERT_FALSE(d.ok()) << "'" << bad << "' parsed";
    EXPECT_NE(d.status().message().find("bad duration '" + std::string(bad) + "'"),
              std::string::npos)
        << d.status().message();
  }
  EXPECT_EQ(ParseDuration("5").status().message(),
            "bad duration '5': missing unit (ns, us, ms, s, m or h)");
  EXPECT_EQ(ParseDuration("5x").status().message(),
            "bad duration '5x': unknown unit 'x' (use ns, us, ms, s, m or h)");
  EXPECT_FALSE(ParseDuration("400d").ok());
  EXPECT_FALSE(ParseDuration("9000h").ok());  // over a year
}

TEST(DslDuration, FormatsShortestExactSpelling) {
  EXPECT_EQ(FormatDuration(Duration{0}), "0");
  EXPECT_EQ(FormatDuration(milliseconds(250)), "250ms");
  EXPECT_EQ(FormatDuration(seconds(90)), "1m30s");
  EXPECT_EQ(FormatDuration(hours(2)), "2h");
  EXPECT_EQ(FormatDuration(nanoseconds(1500)), "1500ns");
}

RC_GTEST_PROP(DslDuration, FormatRoundTripsThroughParse, ()) {
  const auto ns = *rc::gen::inRange<std::int64_t>(0, std::int64_t{300} * 24 * 3600 * 1'000'000'000);
  const Duration d{ns};
  auto parsed = ParseDuration(FormatDuration(d));
  RC_ASSERT(parsed.ok());
  RC_ASSERT(parsed->count() == ns);
}

}  // namespace
}  // namespace tri::saga
