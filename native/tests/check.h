// The native tests' one assertion: CHECK(condition, printf-style message) counts a failure in the
// including file's `failures` and says where, then carries on, so one run reports every failure.
#pragma once

#include <cstdio>

#define CHECK(cond, ...)                                              \
    do {                                                              \
        if (!(cond)) {                                                \
            failures++;                                               \
            std::fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
            std::fprintf(stderr, __VA_ARGS__);                        \
            std::fprintf(stderr, "\n");                               \
        }                                                             \
    } while (0)
