// Internal interface of the Pillow-exact resize, shared by the C API and the C++ tests.
#ifndef WEBPOLICY_PILLOW_RESIZE_H
#define WEBPOLICY_PILLOW_RESIZE_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace webpolicy {

constexpr int kPrecisionBits = 32 - 8 - 2;

// Tables a SIMD kernel derives from Coefficients (see Coefficients::plans).
struct KernelPlan {
    virtual ~KernelPlan() = default;
};

// The filter window of each output sample along one axis, in 22-bit fixed point.
struct Coefficients {
    int ksize = 0;               // stride of weights: the most taps any output sample can have
    std::vector<int> first;      // first input index of each output sample
    std::vector<int> count;      // number of input samples of each output sample
    std::vector<int32_t> weights;  // weights[out * ksize + tap]; zero past count[out]
    // A SIMD kernel's tables derived from these coefficients, per channel count (index c - 1),
    // built on first use. Coefficients come from a per-thread cache (cached_coefficients), so
    // only the owning thread touches them.
    // (unique_ptr, not shared_ptr: shared_ptr's reference counts make libstdc++ reference
    // __libc_single_threaded, which needs glibc 2.32, above the floor.)
    mutable std::unique_ptr<KernelPlan> plans[4];
};

Coefficients compute_coefficients(int in_size, int out_size);

// The coefficients of (in_size, out_size) from this thread's cache of recent geometries: a
// camera stream resizes the same geometry every frame, and the tables are a fixed cost per call.
// The result stays valid until this thread has asked for kCachedCoefficients other geometries
// (a resize asks for two: the horizontal and the vertical axis).
constexpr int kCachedCoefficients = 8;
const Coefficients& cached_coefficients(int in_size, int out_size);

// Resizes in_h x in_w x c (rows contiguous) to out_h x out_w x c written with rows out_stride
// bytes apart. c in 1..4; no alpha handling here. simd selects the AVX2 (x86-64) or NEON
// (aarch64) kernels when the CPU has them. Returns false when scratch memory cannot be allocated.
bool pillow_resize(const uint8_t* in, int in_h, int in_w, int c, int out_h, int out_w,
                   uint8_t* out, std::ptrdiff_t out_stride, bool simd);

// Pillow's RGBA -> RGBa (LA -> La): colour times alpha / 255, rounded as Pillow rounds.
void premultiply(const uint8_t* in, uint8_t* out, std::size_t pixels, int c);
// Pillow's RGBa -> RGBA, in place over rows x cols pixels with rows stride bytes apart.
void unpremultiply(uint8_t* img, std::ptrdiff_t stride, int rows, int cols, int c);

// numpy's (255 * x).astype(uint8) for n little-endian floats of item_size bytes (2, 4 or 8);
// simd selects the NEON loop on aarch64.
void float_to_u8(const uint8_t* src, int item_size, std::size_t n, uint8_t* dst, bool simd);

// Run-time CPU checks, each false on the other architecture.
bool cpu_has_avx2();
bool cpu_has_neon();

#if defined(__x86_64__) || defined(__i386__)
// The AVX2 kernels (pillow_resize_avx2.cpp), with the arguments of the scalar passes.
void horizontal_avx2(const uint8_t* in, std::ptrdiff_t in_stride, int rows, int in_w, int c, const Coefficients& hc,
                     int out_w, uint8_t* out, std::ptrdiff_t out_stride);
void vertical_avx2(const uint8_t* in, std::ptrdiff_t in_stride, int row_shift, int row_bytes, const Coefficients& vc,
                   int out_h, uint8_t* out, std::ptrdiff_t out_stride);
// The multiply-add kernel (pillow_resize_avx2_madd.cpp): its plan for c channels, or nullptr when
// some output's window does not fit the kernel's 16-byte loads; and the pass with that plan.
std::unique_ptr<KernelPlan> multiply_add_plan(int c, int in_w, const Coefficients& hc, int out_w);
void horizontal_avx2_multiply_add(const uint8_t* in, std::ptrdiff_t in_stride, int rows, int in_w, int c,
                                  KernelPlan& plan, int out_w, uint8_t* out, std::ptrdiff_t out_stride);
// Whether horizontal_avx2 runs its multiply-add kernel for this geometry (else its pair kernel),
// so the tests can check that both are exercised.
bool horizontal_avx2_uses_multiply_add(int in_w, int out_w, int c);
#endif

#if defined(__aarch64__)
// The NEON kernels (pillow_resize_neon.cpp), with the arguments of the scalar passes.
void horizontal_neon(const uint8_t* in, std::ptrdiff_t in_stride, int rows, int in_w, int c, const Coefficients& hc,
                     int out_w, uint8_t* out, std::ptrdiff_t out_stride);
void vertical_neon(const uint8_t* in, std::ptrdiff_t in_stride, int row_shift, int row_bytes, const Coefficients& vc,
                   int out_h, uint8_t* out, std::ptrdiff_t out_stride);
#endif

}  // namespace webpolicy

#endif
