// wp_mask_u8 against RFC 6455's byte-at-a-time definition, with the SIMD kernel (AVX2 or NEON,
// whichever this machine runs) and the scalar one: every length around the vector steps, odd
// addresses, every payload offset, in place and overlapping both ways, and the argument checks.
// Buffers are vectors of the exact size, so AddressSanitizer reports any stray read or write.
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include "check.h"
#include "webpolicy_native.h"

namespace {

int failures = 0;

// RFC 6455 5.3: transformed-octet-i = original-octet-i XOR masking-key-octet-(j MOD 4), j the
// octet's offset in the payload; the key's first octet on the wire is the low byte of key.
std::vector<uint8_t> reference(const uint8_t* src, std::size_t n, uint32_t key, int64_t payload_offset) {
    std::vector<uint8_t> out(n);
    for (std::size_t i = 0; i < n; i++) {
        const uint64_t j = static_cast<uint64_t>(payload_offset) + i;
        out[i] = static_cast<uint8_t>(src[i] ^ (key >> ((j % 4) * 8)));
    }
    return out;
}

std::vector<uint8_t> random_bytes(std::mt19937& rng, std::size_t n) {
    std::vector<uint8_t> v(n);
    for (auto& b : v) b = static_cast<uint8_t>(rng());
    return v;
}

void copies(std::mt19937& rng, std::size_t n, int simd) {
    const int skew_src = static_cast<int>(rng() % 8);
    const int skew_dst = static_cast<int>(rng() % 8);
    const uint32_t key = static_cast<uint32_t>(rng());
    const int64_t payload_offset = static_cast<int64_t>(rng() % 11);
    const std::vector<uint8_t> src = random_bytes(rng, n + skew_src);
    std::vector<uint8_t> dst(n + skew_dst);
    const std::vector<uint8_t> expected = reference(src.data() + skew_src, n, key, payload_offset);
    CHECK(wp_mask_u8(src.data(), static_cast<int64_t>(src.size()), skew_src, dst.data(),
                     static_cast<int64_t>(dst.size()), skew_dst, static_cast<int64_t>(n), static_cast<int32_t>(key),
                     payload_offset) == WP_OK, "status, n %zu", n);
    CHECK(std::vector<uint8_t>(dst.begin() + skew_dst, dst.end()) == expected,
          "copy of %zu bytes (simd %d, skews %d/%d, key %08x, payload offset %lld)", n, simd, skew_src, skew_dst, key,
          static_cast<long long>(payload_offset));
    for (int i = 0; i < skew_dst; i++) CHECK(dst[static_cast<std::size_t>(i)] == 0, "byte before dst written");
    // In place: the same bytes.
    std::vector<uint8_t> same(src.begin() + skew_src, src.end());
    CHECK(wp_mask_u8(same.data(), static_cast<int64_t>(n), 0, same.data(), static_cast<int64_t>(n), 0,
                     static_cast<int64_t>(n), static_cast<int32_t>(key), payload_offset) == WP_OK, "in place status");
    CHECK(same == expected, "in place, %zu bytes (simd %d)", n, simd);
}

// src and dst in one buffer, dst `shift` bytes after (positive) or before (negative) src.
void overlapping(std::mt19937& rng, std::size_t n, int64_t shift, int simd) {
    const std::size_t room = static_cast<std::size_t>(shift < 0 ? -shift : shift);
    std::vector<uint8_t> buf = random_bytes(rng, n + room);
    const std::size_t src_off = shift < 0 ? room : 0;
    const std::size_t dst_off = shift < 0 ? 0 : room;
    const uint32_t key = static_cast<uint32_t>(rng());
    const int64_t payload_offset = static_cast<int64_t>(rng() % 4);
    const std::vector<uint8_t> expected = reference(buf.data() + src_off, n, key, payload_offset);
    CHECK(wp_mask_u8(buf.data(), static_cast<int64_t>(buf.size()), static_cast<int64_t>(src_off), buf.data(),
                     static_cast<int64_t>(buf.size()), static_cast<int64_t>(dst_off), static_cast<int64_t>(n),
                     static_cast<int32_t>(key), payload_offset) == WP_OK, "overlap status");
    CHECK(std::vector<uint8_t>(buf.begin() + static_cast<std::ptrdiff_t>(dst_off),
                               buf.begin() + static_cast<std::ptrdiff_t>(dst_off + n)) == expected,
          "overlapping copy of %zu bytes shifted by %lld (simd %d)", n, static_cast<long long>(shift), simd);
}

void arguments() {
    std::vector<uint8_t> a(16), b(16);
    CHECK(wp_mask_u8(a.data(), 16, 0, b.data(), 16, 0, 17, 1, 0) == WP_EBOUNDS, "n past src and dst");
    CHECK(wp_mask_u8(a.data(), 16, 1, b.data(), 16, 0, 16, 1, 0) == WP_EBOUNDS, "n past src end");
    CHECK(wp_mask_u8(a.data(), 16, 0, b.data(), 16, 1, 16, 1, 0) == WP_EBOUNDS, "n past dst end");
    CHECK(wp_mask_u8(a.data(), 16, -1, b.data(), 16, 0, 1, 1, 0) == WP_EBOUNDS, "negative src offset");
    CHECK(wp_mask_u8(a.data(), 16, 0, b.data(), 16, 17, 0, 1, 0) == WP_EBOUNDS, "dst offset past the end");
    CHECK(wp_mask_u8(a.data(), 16, 0, b.data(), -1, 0, 0, 1, 0) == WP_EBOUNDS, "negative dst length");
    CHECK(wp_mask_u8(a.data(), 16, INT64_MAX, b.data(), 16, 0, 1, 1, 0) == WP_EBOUNDS, "huge offset");
    CHECK(wp_mask_u8(a.data(), 16, 8, b.data(), 16, 0, INT64_MAX, 1, 0) == WP_EBOUNDS, "huge n");
    CHECK(wp_mask_u8(a.data(), 16, 0, b.data(), 16, 0, -1, 1, 0) == WP_EINVAL, "negative n");
    CHECK(wp_mask_u8(a.data(), 16, 0, b.data(), 16, 0, 1, 1, -1) == WP_EINVAL, "negative payload offset");
    CHECK(wp_mask_u8(nullptr, 16, 0, b.data(), 16, 0, 1, 1, 0) == WP_EINVAL, "null src");
    CHECK(wp_mask_u8(a.data(), 16, 0, nullptr, 16, 0, 1, 1, 0) == WP_EINVAL, "null dst");
    CHECK(wp_mask_u8(nullptr, 0, 0, nullptr, 0, 0, 0, 1, 0) == WP_OK, "nothing to do");
    a[3] = 0x5a;
    CHECK(wp_mask_u8(a.data(), 16, 0, b.data(), 16, 0, 16, 0, 3) == WP_OK && b == a, "key 0 copies");
}

}  // namespace

int run_masking_tests() {
    std::mt19937 rng(6455);
    int cases = 0;
    for (int simd = 1; simd >= 0; simd--) {
        wp_set_simd_enabled(simd);
        for (std::size_t n = 0; n <= 300; n++, cases++) copies(rng, n, simd);
        for (std::size_t n : {4095u, 4096u, 4097u, 8191u, 65536u + 7u, 600000u + 13u}) {
            copies(rng, n, simd);
            cases++;
        }
        for (int64_t shift : {1, 2, 3, 4, 5, 31, 32, 33, 127, 4095, 4096, 4097, 9000}) {
            for (std::size_t n : {1u, 7u, 64u, 129u, 4096u, 10000u}) {
                overlapping(rng, n, shift, simd);
                overlapping(rng, n, -shift, simd);
                cases += 2;
            }
        }
    }
    wp_set_simd_enabled(1);
    arguments();
    std::printf("masking: %d cases (SIMD level %d and scalar) and the argument checks\n", cases, wp_simd_level());
    return failures;
}
