// webpolicy native layer: image and WebSocket masking kernels called from Java through one JavaCPP binding
// (org.webpolicy.internal.nativelib.ImageNative) and from the C++ tests in native/tests. It depends on
// the C and C++ runtimes only (no OpenCV): see scripts/check_glibc_floor for the oldest glibc.
//
// Every function checks its sizes and buffer lengths itself and returns a WP_* status; none
// throws. The Java side checks the same bounds before calling, so a bad argument is caught twice.
// All functions are thread-safe (no shared mutable state besides the SIMD switch, an atomic).
#ifndef WEBPOLICY_NATIVE_H
#define WEBPOLICY_NATIVE_H

#include <stdint.h>

#define WP_OK 0
#define WP_EINVAL (-1)   /* a size or parameter is out of range, or buffers overlap */
#define WP_EBOUNDS (-2)  /* a buffer is too small for the sizes given */
#define WP_ENOMEM (-3)   /* scratch memory could not be allocated */
#define WP_EJPEG (-4)    /* the JPEG data does not decode (the decoder's message says why) */
#define WP_ENOJPEG (-5)  /* this build has no JPEG codec (built without libjpeg-turbo) */

#define WP_SIMD_SCALAR 0 /* the scalar kernels run */
#define WP_SIMD_NEON 1   /* the NEON kernels run (aarch64) */
#define WP_SIMD_AVX2 2   /* the AVX2 kernels run (x86-64) */

/* Version of this native layer; the Java side refuses a library of another version. */
int wp_native_version();

/* Which kernels run: WP_SIMD_AVX2 or WP_SIMD_NEON where the CPU has them, else WP_SIMD_SCALAR. */
int wp_simd_level();

/* Enables (1) or disables (0) the SIMD kernels, for tests and benchmarks; both give the same bytes. */
void wp_set_simd_enabled(int enabled);

/*
 * Pillow-exact BILINEAR resize-with-pad of one uint8 image.
 * Reads in_h x in_w x channels bytes at src + src_off, resizes them to resized_h x resized_w
 * and writes them at (top, left) into the out_h x out_w x channels frame at dst + dst_off,
 * whose other bytes are set to 0 (the padding).
 * channels is 1 (L), 2 (LA, premultiplied alpha), 3 (RGB) or 4 (RGBA, premultiplied alpha).
 */
int wp_resize_with_pad_u8(const uint8_t* src, int64_t src_len, int64_t src_off,
                          int in_h, int in_w, int channels,
                          int resized_h, int resized_w, int top, int left, int out_h, int out_w,
                          uint8_t* dst, int64_t dst_len, int64_t dst_off);

/*
 * numpy's (255 * x).astype(uint8) on x86-64 for count little-endian floats of item_size bytes
 * (2, 4 or 8): the product in the input's precision, truncated; NaN or outside int32 gives 0,
 * anything else keeps its low byte.
 */
int wp_float_to_u8(const uint8_t* src, int64_t src_len, int item_size, int64_t count,
                   uint8_t* dst, int64_t dst_len);

/*
 * Layout of count uint8 images of h x w pixels and c channels (1 to 4), one after the other.
 * wp_hwc_to_chw_u8 writes each [h, w, c] image as [c, h, w]; wp_chw_to_hwc_u8 the reverse.
 * swap_rb != 0 also exchanges channels 0 and 2 (RGB <-> BGR, RGBA <-> BGRA; c must be 3 or 4).
 * src and dst must not overlap.
 */
int wp_hwc_to_chw_u8(const uint8_t* src, int64_t src_len, int64_t count, int h, int w, int c, int swap_rb,
                     uint8_t* dst, int64_t dst_len);
int wp_chw_to_hwc_u8(const uint8_t* src, int64_t src_len, int64_t count, int h, int w, int c, int swap_rb,
                     uint8_t* dst, int64_t dst_len);

/*
 * Exchanges channels 0 and 2 of pixels interleaved pixels of c (3 or 4) uint8 channels:
 * RGB <-> BGR, RGBA <-> BGRA. dst may be src (in place); other overlaps are refused.
 */
int wp_swap_rb_u8(const uint8_t* src, int64_t src_len, int64_t pixels, int c, uint8_t* dst, int64_t dst_len);

/*
 * RFC 6455 masking while copying: dst[dst_off + i] = src[src_off + i] XOR byte
 * ((payload_offset + i) % 4) of key, for i in [0, n). key holds the 4-byte masking key as sent on
 * the wire, read little-endian: its first byte in bits 0-7. payload_offset (>= 0) is where
 * src[src_off] lies in the frame's payload. Key 0 copies. src and dst may overlap in any way (in
 * place included): the result is as if src were read whole before dst is written.
 */
int wp_mask_u8(const uint8_t* src, int64_t src_len, int64_t src_off, uint8_t* dst, int64_t dst_len, int64_t dst_off,
               int64_t n, int32_t key, int64_t payload_offset);

/*
 * JPEG through libjpeg-turbo's libjpeg API, linked statically when the build found it
 * (wp_jpeg_available() says; without it every other JPEG function returns WP_ENOJPEG).
 *
 * wp_jpeg_encode_u8 writes h x w x c (c = 1 grey, or 3 RGB) bytes at src + src_off (src holds
 * src_len bytes: the pixels are read where the caller keeps them, inside a larger buffer or not) as
 * a baseline JPEG at quality 1..100 (the IJG scale, as javax.imageio's), 4:2:0 for RGB, into dst;
 * returns the bytes written, WP_EBOUNDS when dst is too small (the caller retries with more) or src
 * too short, or another WP_* error.
 *
 * A decoder decodes one image in bands of rows, so that a caller can stop between bands and hold
 * no lock for long: wp_jpeg_decoder_new, then wp_jpeg_decoder_start (reads the header, which must
 * say h x w and c components, sequential Huffman, 8 bits), then wp_jpeg_decoder_read until it
 * returns h, then wp_jpeg_decoder_free. The compressed bytes are passed again to every call (the
 * same bytes: the caller's memory may have moved between calls, the decoder keeps an offset, not
 * a pointer). Any warning of the decoder (corrupt data it would pad over, data cut short) fails the
 * image with WP_EJPEG; wp_jpeg_decoder_message then copies the reason. A decoder is used by one
 * thread at a time.
 */
int wp_jpeg_available();
int64_t wp_jpeg_encode_u8(const uint8_t* src, int64_t src_len, int64_t src_off, int h, int w, int c, int quality,
                          uint8_t* dst, int64_t dst_len);
int64_t wp_jpeg_decoder_new();
int wp_jpeg_decoder_start(int64_t decoder, const uint8_t* data, int64_t data_len, int h, int w, int c);
/* Decodes up to rows more rows into dst (h x w x c bytes, HWC); returns the rows decoded so far. */
int wp_jpeg_decoder_read(int64_t decoder, const uint8_t* data, int64_t data_len, int rows,
                         uint8_t* dst, int64_t dst_len);
/* Copies the reason of the last failure, NUL-terminated, into buf; returns its length. */
int wp_jpeg_decoder_message(int64_t decoder, char* buf, int buf_len);
void wp_jpeg_decoder_free(int64_t decoder);

#endif
