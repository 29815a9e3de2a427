// JPEG encode and decode through libjpeg-turbo's libjpeg API (linked statically when the build
// defines WP_HAVE_JPEG=1). The libjpeg API rather than TurboJPEG's one-call functions: decoding in
// bands of rows lets the Java side poll its stop request between bands and pin the arrays only
// for one band at a time, as the javax.imageio path polls per row.
//
// libjpeg reports errors through a callback that must not return: it longjmps back to the entry
// point. The error manager is ours, not jpeg_std_error(): Debian's x86-64 libjpeg.a is built as
// position-dependent code, and its one reference to libc data (stderr, in jerror.c, which also
// prints warnings there) cannot be linked into a shared library. Without a call into jerror.c the
// linker never takes that object from the archive (the link fails loudly if that changes). So the functions that call setjmp hold no C++ object with a destructor, and everything
// that lives across a band is plain data in the decoder's struct.
//
// Every call makes its own compress or decompress struct. One kept per thread and reset between
// images saves what jpeg_create_*, jpeg_set_defaults and jpeg_set_quality cost (1.6 us an image
// pair alone; about 1% of a 4-camera 224x224 step, 0.3-1.4% in most runs of
// native/bench/jpeg_floor.cpp, which times both ways): not worth a struct whose state must be
// trusted after a longjmp. jpeg_start_* allocates and derives the tables again either way.
#include "webpolicy_native.h"

#if WP_HAVE_JPEG

#include <csetjmp>
#include <cstddef>
#include <cstdio>  // jpeglib.h uses FILE and size_t without including their headers
#include <cstring>
#include <new>

#include <jerror.h>
#include <jpeglib.h>

namespace {

struct ErrorState {
    jpeg_error_mgr pub;  // first: libjpeg sees only this part
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    bool overflow;  // the encoder's destination was full
};

[[noreturn]] void fail(j_common_ptr cinfo) {
    ErrorState* err = reinterpret_cast<ErrorState*>(cinfo->err);
    (*cinfo->err->format_message)(cinfo, err->message);
    std::longjmp(err->jump, 1);
}

// A warning (level -1) is corrupt or missing data the decoder would paper over with grey or
// repeated rows: the image is refused, as the javax.imageio path refuses on any warning.
// Trace messages (level >= 0) are ignored.
void on_message(j_common_ptr cinfo, int level) {
    if (level < 0) fail(cinfo);
}

// The message texts, by code, from jerror.h's own list (the header is written to be expanded
// this way a second time).
// (Two of them name the version and copyright strings of an internal header: never reported here.)
#define JVERSION "libjpeg-turbo"
#define JCOPYRIGHT_SHORT "libjpeg-turbo"
#define JMESSAGE(code, text) text,
const char* const kMessages[] = {
#include <jerror.h>
    nullptr};

// A message takes either one string or up to eight integers (jpeg_error_mgr's msg_parm).
void format_message(j_common_ptr cinfo, char* buffer) {
    const jpeg_error_mgr* err = cinfo->err;
    const int code = err->msg_code;
    const char* format = code > 0 && code <= err->last_jpeg_message ? err->jpeg_message_table[code] : nullptr;
    if (format == nullptr) {
        std::snprintf(buffer, JMSG_LENGTH_MAX, "libjpeg message %d", code);
        return;
    }
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-security"
    if (std::strstr(format, "%s") != nullptr) {
        std::snprintf(buffer, JMSG_LENGTH_MAX, format, err->msg_parm.s);
    } else {
        const int* i = err->msg_parm.i;
        std::snprintf(buffer, JMSG_LENGTH_MAX, format, i[0], i[1], i[2], i[3], i[4], i[5], i[6], i[7]);
    }
#pragma GCC diagnostic pop
}

void output_nothing(j_common_ptr) {}

void reset_errors(j_common_ptr cinfo) {
    cinfo->err->num_warnings = 0;
    cinfo->err->msg_code = 0;
}

void init_errors(ErrorState* err) {
    std::memset(&err->pub, 0, sizeof err->pub);
    err->pub.error_exit = fail;
    err->pub.emit_message = on_message;
    err->pub.output_message = output_nothing;
    err->pub.format_message = format_message;
    err->pub.reset_error_mgr = reset_errors;
    err->pub.jpeg_message_table = kMessages;
    err->pub.last_jpeg_message = static_cast<int>(JMSG_LASTMSGCODE) - 1;
    err->message[0] = '\0';
    err->overflow = false;
}

// ---------------------------------------------------------------- encode

struct Destination {
    jpeg_destination_mgr pub;  // first
    ErrorState* err;
};

void dest_noop(j_compress_ptr) {}

boolean dest_full(j_compress_ptr cinfo) {
    Destination* dest = reinterpret_cast<Destination*>(cinfo->dest);
    dest->err->overflow = true;
    std::strcpy(dest->err->message, "output buffer too small");
    std::longjmp(dest->err->jump, 1);
}

// The compress struct and its error state in one plain block, so the setjmp frame holds no
// C++ object.
struct Encoder {
    jpeg_compress_struct cinfo;
    ErrorState err;
    Destination dest;
    bool created;
};

int64_t encode(Encoder* e, const uint8_t* src, int h, int w, int c, int quality, uint8_t* dst, int64_t dst_len) {
    if (setjmp(e->err.jump) != 0) {
        return e->err.overflow ? WP_EBOUNDS : WP_EJPEG;
    }
    jpeg_create_compress(&e->cinfo);
    e->created = true;
    e->dest.pub.next_output_byte = dst;
    e->dest.pub.free_in_buffer = static_cast<size_t>(dst_len);
    e->dest.pub.init_destination = dest_noop;
    e->dest.pub.empty_output_buffer = dest_full;
    e->dest.pub.term_destination = dest_noop;
    e->dest.err = &e->err;
    e->cinfo.dest = &e->dest.pub;
    e->cinfo.image_width = static_cast<JDIMENSION>(w);
    e->cinfo.image_height = static_cast<JDIMENSION>(h);
    e->cinfo.input_components = c;
    e->cinfo.in_color_space = c == 3 ? JCS_RGB : JCS_GRAYSCALE;
    // Defaults as javax.imageio writes them: JFIF, YCbCr with 2x2 luma sampling (4:2:0), the
    // IJG tables scaled to the quality, accurate integer DCT, standard Huffman tables.
    jpeg_set_defaults(&e->cinfo);
    jpeg_set_quality(&e->cinfo, quality, TRUE);
    e->cinfo.dct_method = JDCT_ISLOW;
    jpeg_start_compress(&e->cinfo, TRUE);
    const std::size_t stride = static_cast<std::size_t>(w) * c;
    JSAMPROW rows[16];
    while (e->cinfo.next_scanline < e->cinfo.image_height) {
        const JDIMENSION first = e->cinfo.next_scanline;
        const JDIMENSION n = e->cinfo.image_height - first < 16 ? e->cinfo.image_height - first : 16;
        for (JDIMENSION i = 0; i < n; i++) {
            rows[i] = const_cast<JSAMPROW>(src + (first + i) * stride);
        }
        jpeg_write_scanlines(&e->cinfo, rows, n);
    }
    jpeg_finish_compress(&e->cinfo);
    return dst_len - static_cast<int64_t>(e->dest.pub.free_in_buffer);
}

// ---------------------------------------------------------------- decode

struct Decoder {
    jpeg_decompress_struct cinfo;
    ErrorState err;
    jpeg_source_mgr src;
    const uint8_t* base;  // the caller's bytes, valid during one call only
    int64_t length;
    int64_t offset;       // of src.next_input_byte from base, kept across calls
    int height, width, channels;
    bool created, started, failed, finished;
};

void src_noop(j_decompress_ptr) {}

// Our data always ends with an end-of-image marker (checked before decoding), so a decoder that
// asks for more was led past it by corrupt data: refused, never padded with a fake marker.
boolean src_more(j_decompress_ptr cinfo) {
    ERREXIT(cinfo, JERR_INPUT_EOF);
    return FALSE;
}

void src_skip(j_decompress_ptr cinfo, long count) {
    if (count <= 0) return;
    jpeg_source_mgr* src = cinfo->src;
    if (static_cast<unsigned long>(count) > src->bytes_in_buffer) ERREXIT(cinfo, JERR_INPUT_EOF);
    src->next_input_byte += count;
    src->bytes_in_buffer -= static_cast<size_t>(count);
}

Decoder* as_decoder(int64_t handle) { return reinterpret_cast<Decoder*>(static_cast<intptr_t>(handle)); }

// Points the source at this call's copy of the bytes.
void attach(Decoder* d, const uint8_t* data) {
    d->base = data;
    d->src.next_input_byte = data + d->offset;
}

void detach(Decoder* d) {
    d->offset = d->src.next_input_byte - d->base;
    d->base = nullptr;
}

void set_message(Decoder* d, const char* text) {
    std::snprintf(d->err.message, sizeof d->err.message, "%s", text);
}

int start(Decoder* d, int h, int w, int c) {
    if (setjmp(d->err.jump) != 0) {
        d->failed = true;
        return WP_EJPEG;
    }
    jpeg_create_decompress(&d->cinfo);
    d->created = true;
    d->src.init_source = src_noop;
    d->src.fill_input_buffer = src_more;
    d->src.skip_input_data = src_skip;
    d->src.resync_to_restart = jpeg_resync_to_restart;
    d->src.term_source = src_noop;
    d->src.bytes_in_buffer = static_cast<size_t>(d->length);
    d->cinfo.src = &d->src;
    jpeg_read_header(&d->cinfo, TRUE);
    char text[160];
    if (d->cinfo.image_height != static_cast<JDIMENSION>(h) || d->cinfo.image_width != static_cast<JDIMENSION>(w)
        || d->cinfo.num_components != c) {
        std::snprintf(text, sizeof text, "the decoder sees %ux%ux%d, the header said %dx%dx%d",
                      d->cinfo.image_height, d->cinfo.image_width, d->cinfo.num_components, h, w, c);
        set_message(d, text);
        d->failed = true;
        return WP_EJPEG;
    }
    // Checked before decoding already; again here, where it matters, so no caller can get a
    // multi-pass decode through this function.
    if (d->cinfo.progressive_mode || d->cinfo.arith_code || d->cinfo.data_precision != 8) {
        set_message(d, "not a sequential Huffman 8-bit JPEG");
        d->failed = true;
        return WP_EJPEG;
    }
    d->cinfo.out_color_space = c == 3 ? JCS_RGB : JCS_GRAYSCALE;
    d->cinfo.dct_method = JDCT_ISLOW;
    jpeg_start_decompress(&d->cinfo);
    if (d->cinfo.output_components != c) {
        set_message(d, "the decoder's output has another number of channels");
        d->failed = true;
        return WP_EJPEG;
    }
    d->started = true;
    return WP_OK;
}

int read_rows(Decoder* d, int rows, uint8_t* dst) {
    if (setjmp(d->err.jump) != 0) {
        d->failed = true;
        return WP_EJPEG;
    }
    const std::size_t stride = static_cast<std::size_t>(d->width) * d->channels;
    const JDIMENSION end = d->cinfo.output_height - d->cinfo.output_scanline < static_cast<JDIMENSION>(rows)
                               ? d->cinfo.output_height
                               : d->cinfo.output_scanline + static_cast<JDIMENSION>(rows);
    JSAMPROW pointers[16];
    while (d->cinfo.output_scanline < end) {
        const JDIMENSION first = d->cinfo.output_scanline;
        const JDIMENSION n = end - first < 16 ? end - first : 16;
        for (JDIMENSION i = 0; i < n; i++) pointers[i] = dst + (first + i) * stride;
        if (jpeg_read_scanlines(&d->cinfo, pointers, n) == 0) {
            set_message(d, "the decoder stopped making rows");
            d->failed = true;
            return WP_EJPEG;
        }
    }
    if (d->cinfo.output_scanline == d->cinfo.output_height && !d->finished) {
        jpeg_finish_decompress(&d->cinfo);  // reads up to the end marker: damage there is refused too
        d->finished = true;
    }
    return static_cast<int>(d->cinfo.output_scanline);
}

}  // namespace

int wp_jpeg_available() { return 1; }

int64_t wp_jpeg_encode_u8(const uint8_t* src, int64_t src_len, int64_t src_off, int h, int w, int c, int quality,
                          uint8_t* dst, int64_t dst_len) {
    if (src == nullptr || dst == nullptr || src_off < 0) return WP_EINVAL;
    if (h <= 0 || w <= 0 || h > JPEG_MAX_DIMENSION || w > JPEG_MAX_DIMENSION) return WP_EINVAL;
    if ((c != 1 && c != 3) || quality < 1 || quality > 100) return WP_EINVAL;
    if (src_len < src_off || src_len - src_off < static_cast<int64_t>(h) * w * c || dst_len < 0) return WP_EBOUNDS;
    src += src_off;
    Encoder* e = new (std::nothrow) Encoder();
    if (e == nullptr) return WP_ENOMEM;
    init_errors(&e->err);
    e->cinfo.err = &e->err.pub;
    const int64_t result = encode(e, src, h, w, c, quality, dst, dst_len);
    if (e->created) jpeg_destroy_compress(&e->cinfo);
    delete e;
    return result;
}

int64_t wp_jpeg_decoder_new() {
    Decoder* d = new (std::nothrow) Decoder();
    if (d == nullptr) return 0;
    init_errors(&d->err);
    d->cinfo.err = &d->err.pub;
    return static_cast<int64_t>(reinterpret_cast<intptr_t>(d));
}

int wp_jpeg_decoder_start(int64_t decoder, const uint8_t* data, int64_t data_len, int h, int w, int c) {
    Decoder* d = as_decoder(decoder);
    if (d == nullptr || data == nullptr || d->created || data_len < 4) return WP_EINVAL;
    if (h <= 0 || w <= 0 || (c != 1 && c != 3)) return WP_EINVAL;
    d->length = data_len;
    d->offset = 0;
    d->height = h;
    d->width = w;
    d->channels = c;
    attach(d, data);
    const int status = start(d, h, w, c);
    detach(d);
    return status;
}

int wp_jpeg_decoder_read(int64_t decoder, const uint8_t* data, int64_t data_len, int rows, uint8_t* dst,
                         int64_t dst_len) {
    Decoder* d = as_decoder(decoder);
    if (d == nullptr || data == nullptr || dst == nullptr || rows < 1) return WP_EINVAL;
    if (!d->started || d->failed || data_len != d->length) return WP_EINVAL;
    if (dst_len < static_cast<int64_t>(d->height) * d->width * d->channels) return WP_EBOUNDS;
    attach(d, data);
    const int status = read_rows(d, rows, dst);
    detach(d);
    return status;
}

int wp_jpeg_decoder_message(int64_t decoder, char* buf, int buf_len) {
    Decoder* d = as_decoder(decoder);
    if (d == nullptr || buf == nullptr || buf_len < 1) return WP_EINVAL;
    return std::snprintf(buf, static_cast<size_t>(buf_len), "%s", d->err.message);
}

void wp_jpeg_decoder_free(int64_t decoder) {
    Decoder* d = as_decoder(decoder);
    if (d == nullptr) return;
    if (d->created) jpeg_destroy_decompress(&d->cinfo);
    delete d;
}

#else  // built without libjpeg-turbo: the Java side sees wp_jpeg_available() == 0 and uses the JDK

int wp_jpeg_available() { return 0; }
int64_t wp_jpeg_encode_u8(const uint8_t*, int64_t, int64_t, int, int, int, int, uint8_t*, int64_t) { return WP_ENOJPEG; }
int64_t wp_jpeg_decoder_new() { return 0; }
int wp_jpeg_decoder_start(int64_t, const uint8_t*, int64_t, int, int, int) { return WP_ENOJPEG; }
int wp_jpeg_decoder_read(int64_t, const uint8_t*, int64_t, int, uint8_t*, int64_t) { return WP_ENOJPEG; }
int wp_jpeg_decoder_message(int64_t, char* buf, int buf_len) {
    if (buf == nullptr || buf_len < 1) return WP_EINVAL;
    buf[0] = '\0';
    return 0;
}
void wp_jpeg_decoder_free(int64_t) {}

#endif
