#pragma once

// Assertions that guard core invariants. They stay on in release builds: a
// broken invariant stops the process loudly rather than corrupting state.

namespace tri::detail {
[[noreturn]] void AssertFail(const char* expr, const char* file, int line, const char* message);
}  // namespace tri::detail

#define TRI_ASSERT(cond)                                                            \
  do {                                                                              \
    if (__builtin_expect(!(cond), 0)) ::tri::detail::AssertFail(#cond, __FILE__, __LINE__, nullptr); \
  } while (0)

// `msg` is a plain C string, to keep the failure path free of allocation.
#define TRI_ASSERT_MSG(cond, msg)                                                   \
  do {                                                                              \
    if (__builtin_expect(!(cond), 0)) ::tri::detail::AssertFail(#cond, __FILE__, __LINE__, (msg)); \
  } while (0)

#define TRI_UNREACHABLE() ::tri::detail::AssertFail("unreachable", __FILE__, __LINE__, nullptr)

// Checks only in debug builds: for hot loops where the invariant is also
// covered by tests and a release assertion would cost too much.
#ifdef NDEBUG
#define TRI_DASSERT(cond) \
  do {                    \
  } while (0)
#else
#define TRI_DASSERT(cond) TRI_ASSERT(cond)
#endif
