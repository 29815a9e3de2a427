// Pillow's BILINEAR resize on 8-bit images, reproduced from its documented arithmetic
// (PILLOW_RESIZE.md): coefficients in IEEE double (built without -ffast-math and with
// -ffp-contract=off so the doubles match Java's), 22-bit fixed point, a horizontal pass into an
// 8-bit intermediate, then a vertical pass. The scalar kernels are here; the AVX2 and NEON ones,
// chosen at run time, are in pillow_resize_avx2.cpp and pillow_resize_neon.cpp.
#include "pillow_resize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>

#if defined(__x86_64__) || defined(__i386__)
#define WP_X86 1
#endif

namespace webpolicy {

namespace {

constexpr int32_t kHalf = 1 << (kPrecisionBits - 1);

inline double triangle(double x) {
    if (x < 0.0) x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

inline uint8_t clip8(int32_t acc) {
    int32_t v = acc >> kPrecisionBits;
    return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

// ---------------------------------------------------------------- scalar kernels

template <int C>
void horizontal_scalar_c(const uint8_t* in, std::ptrdiff_t in_stride, int rows, const Coefficients& hc,
                         int out_w, uint8_t* out, std::ptrdiff_t out_stride) {
    const int ksize = hc.ksize;
    for (int y = 0; y < rows; y++) {
        const uint8_t* row = in + y * in_stride;
        uint8_t* o = out + y * out_stride;
        for (int xx = 0; xx < out_w; xx++) {
            const uint8_t* p = row + static_cast<std::ptrdiff_t>(hc.first[xx]) * C;
            const int32_t* k = hc.weights.data() + static_cast<std::size_t>(xx) * ksize;
            const int n = hc.count[xx];
            int32_t acc[C];
            for (int ch = 0; ch < C; ch++) acc[ch] = kHalf;
            for (int x = 0; x < n; x++) {
                const int32_t kx = k[x];
                for (int ch = 0; ch < C; ch++) acc[ch] += p[x * C + ch] * kx;
            }
            for (int ch = 0; ch < C; ch++) o[xx * C + ch] = clip8(acc[ch]);
        }
    }
}

void horizontal_scalar(const uint8_t* in, std::ptrdiff_t in_stride, int rows, int c, const Coefficients& hc,
                       int out_w, uint8_t* out, std::ptrdiff_t out_stride) {
    switch (c) {
        case 1: horizontal_scalar_c<1>(in, in_stride, rows, hc, out_w, out, out_stride); break;
        case 2: horizontal_scalar_c<2>(in, in_stride, rows, hc, out_w, out, out_stride); break;
        case 3: horizontal_scalar_c<3>(in, in_stride, rows, hc, out_w, out, out_stride); break;
        default: horizontal_scalar_c<4>(in, in_stride, rows, hc, out_w, out, out_stride); break;
    }
}

// in points at image row row_shift (the horizontal pass kept only the rows needed).
void vertical_scalar(const uint8_t* in, std::ptrdiff_t in_stride, int row_shift, int row_bytes,
                     const Coefficients& vc, int out_h, uint8_t* out, std::ptrdiff_t out_stride,
                     std::vector<int32_t>& acc) {
    acc.resize(static_cast<std::size_t>(row_bytes));
    for (int yy = 0; yy < out_h; yy++) {
        std::fill(acc.begin(), acc.end(), kHalf);
        const int ymin = vc.first[yy] - row_shift;
        const int n = vc.count[yy];
        const int32_t* k = vc.weights.data() + static_cast<std::size_t>(yy) * vc.ksize;
        for (int y = 0; y < n; y++) {
            const int32_t ky = k[y];
            const uint8_t* p = in + (ymin + y) * in_stride;
            int32_t* a = acc.data();
            for (int i = 0; i < row_bytes; i++) a[i] += p[i] * ky;  // auto-vectorised at -O3
        }
        uint8_t* o = out + yy * out_stride;
        for (int i = 0; i < row_bytes; i++) o[i] = clip8(acc[static_cast<std::size_t>(i)]);
    }
}

}  // namespace

Coefficients compute_coefficients(int in_size, int out_size) {
    Coefficients c;
    const double scale = static_cast<double>(in_size) / out_size;
    const double filterscale = scale > 1.0 ? scale : 1.0;
    const double support = filterscale * 1.0;
    const int ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
    c.ksize = ksize;
    c.first.assign(static_cast<std::size_t>(out_size), 0);
    c.count.assign(static_cast<std::size_t>(out_size), 0);
    c.weights.assign(static_cast<std::size_t>(out_size) * ksize, 0);
    std::vector<double> k(static_cast<std::size_t>(ksize));
    const double ss = 1.0 / filterscale;
    for (int xx = 0; xx < out_size; xx++) {
        const double center = (xx + 0.5) * scale;
        int xmin = static_cast<int>(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        int xmax = static_cast<int>(center + support + 0.5);
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        double ww = 0.0;
        for (int x = 0; x < xmax; x++) {
            const double w = triangle((x + xmin - center + 0.5) * ss);
            k[static_cast<std::size_t>(x)] = w;
            ww += w;
        }
        for (int x = 0; x < xmax; x++) {
            double& kx = k[static_cast<std::size_t>(x)];
            if (ww != 0.0) kx /= ww;
            // Round half away from zero by truncation, as Pillow's C cast does.
            const double v = kx * (1 << kPrecisionBits);
            c.weights[static_cast<std::size_t>(xx) * ksize + x] = static_cast<int32_t>(kx < 0 ? -0.5 + v : 0.5 + v);
        }
        c.first[static_cast<std::size_t>(xx)] = xmin;
        c.count[static_cast<std::size_t>(xx)] = xmax;
    }
    return c;
}

const Coefficients& cached_coefficients(int in_size, int out_size) {
    struct Entry {
        int in_size;
        int out_size;
        std::unique_ptr<Coefficients> coefficients;
    };
    thread_local std::vector<Entry> cache;  // least recently used first
    for (std::size_t i = 0; i < cache.size(); i++) {
        if (cache[i].in_size == in_size && cache[i].out_size == out_size) {
            Entry hit = std::move(cache[i]);
            cache.erase(cache.begin() + static_cast<std::ptrdiff_t>(i));
            cache.push_back(std::move(hit));
            return *cache.back().coefficients;
        }
    }
    auto built = std::make_unique<Coefficients>(compute_coefficients(in_size, out_size));
    if (cache.size() >= static_cast<std::size_t>(kCachedCoefficients)) cache.erase(cache.begin());
    cache.push_back({in_size, out_size, std::move(built)});
    return *cache.back().coefficients;
}

bool pillow_resize(const uint8_t* in, int in_h, int in_w, int c, int out_h, int out_w,
                   uint8_t* out, std::ptrdiff_t out_stride, bool simd) {
    try {
        const bool horizontal = out_w != in_w;
        const bool vertical = out_h != in_h;
        const std::ptrdiff_t in_stride = static_cast<std::ptrdiff_t>(in_w) * c;
#ifdef WP_X86
        const bool avx2 = simd && cpu_has_avx2();
#elif defined(__aarch64__)
        const bool neon = simd && cpu_has_neon();
#else
        (void)simd;
#endif
        if (!horizontal && !vertical) {
            for (int y = 0; y < in_h; y++) std::memcpy(out + y * out_stride, in + y * in_stride, static_cast<std::size_t>(in_stride));
            return true;
        }
        std::vector<int32_t> acc;
        auto vpass = [&](const uint8_t* src, std::ptrdiff_t stride, int shift, const Coefficients& vc) {
            const int row_bytes = out_w * c;
#ifdef WP_X86
            if (avx2) {
                vertical_avx2(src, stride, shift, row_bytes, vc, out_h, out, out_stride);
                return;
            }
#elif defined(__aarch64__)
            if (neon) {
                vertical_neon(src, stride, shift, row_bytes, vc, out_h, out, out_stride);
                return;
            }
#endif
            vertical_scalar(src, stride, shift, row_bytes, vc, out_h, out, out_stride, acc);
        };
        auto hpass = [&](const uint8_t* src, int rows, const Coefficients& hc, uint8_t* dst, std::ptrdiff_t dst_stride) {
#ifdef WP_X86
            if (avx2) {
                horizontal_avx2(src, in_stride, rows, in_w, c, hc, out_w, dst, dst_stride);
                return;
            }
#elif defined(__aarch64__)
            if (neon) {
                horizontal_neon(src, in_stride, rows, in_w, c, hc, out_w, dst, dst_stride);
                return;
            }
#endif
            horizontal_scalar(src, in_stride, rows, c, hc, out_w, dst, dst_stride);
        };
        if (!horizontal) {
            vpass(in, in_stride, 0, cached_coefficients(in_h, out_h));
            return true;
        }
        const Coefficients& hc = cached_coefficients(in_w, out_w);
        if (!vertical) {
            hpass(in, in_h, hc, out, out_stride);
            return true;
        }
        // hc was the most recent entry, so this second lookup cannot evict it.
        const Coefficients& vc = cached_coefficients(in_h, out_h);
        // Only the input rows the vertical pass reads go through the horizontal pass.
        const int first_row = vc.first[0];
        const int last_row = vc.first[static_cast<std::size_t>(out_h) - 1] + vc.count[static_cast<std::size_t>(out_h) - 1];
        const std::ptrdiff_t tmp_stride = static_cast<std::ptrdiff_t>(out_w) * c;
        // Per-thread and kept: every byte used is written by the horizontal pass first.
        thread_local std::vector<uint8_t> tmp;
        const std::size_t tmp_bytes = static_cast<std::size_t>(last_row - first_row) * static_cast<std::size_t>(tmp_stride);
        if (tmp.size() < tmp_bytes) tmp.resize(tmp_bytes);
        if (tmp.capacity() > (std::size_t{64} << 20) && tmp_bytes < tmp.capacity() / 4) {
            std::vector<uint8_t>(tmp_bytes).swap(tmp);  // do not keep a huge buffer for small images
        }
        hpass(in + first_row * in_stride, last_row - first_row, hc, tmp.data(), tmp_stride);
        vpass(tmp.data(), tmp_stride, first_row, vc);
        return true;
    } catch (const std::bad_alloc&) {
        return false;
    }
}

void premultiply(const uint8_t* in, uint8_t* out, std::size_t pixels, int c) {
    const int a = c - 1;
    for (std::size_t i = 0; i < pixels; i++) {
        const uint8_t* p = in + i * c;
        uint8_t* q = out + i * c;
        const unsigned alpha = p[a];
        for (int ch = 0; ch < a; ch++) {
            const unsigned t = p[ch] * alpha + 128;
            q[ch] = static_cast<uint8_t>(((t >> 8) + t) >> 8);
        }
        q[a] = static_cast<uint8_t>(alpha);
    }
}

void unpremultiply(uint8_t* img, std::ptrdiff_t stride, int rows, int cols, int c) {
    const int a = c - 1;
    for (int y = 0; y < rows; y++) {
        uint8_t* p = img + y * stride;
        for (int x = 0; x < cols; x++, p += c) {
            const unsigned alpha = p[a];
            if (alpha == 0 || alpha == 255) continue;
            for (int ch = 0; ch < a; ch++) {
                const unsigned v = (255u * p[ch]) / alpha;
                p[ch] = static_cast<uint8_t>(v > 255 ? 255 : v);
            }
        }
    }
}

}  // namespace webpolicy
