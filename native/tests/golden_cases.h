// The Python goldens (src/test/resources/golden/images) through the C API.
#ifndef WEBPOLICY_GOLDEN_CASES_H
#define WEBPOLICY_GOLDEN_CASES_H

#include <string>

// Runs every *.msgpack case of dir with the SIMD and the scalar kernels; returns the failures.
int run_golden_cases(const std::string& dir);

#endif
