// The approximate resize: OpenCV's cv::resize straight into the paste region of the frame.
#include <cstddef>
#include <cstdint>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "webpolicy_native.h"

// Arguments were checked by wp_resize_with_pad_u8_opencv.
int wp_opencv_resize_checked(const uint8_t* in, int in_h, int in_w, int channels, int resized_h, int resized_w,
                             uint8_t* paste, std::ptrdiff_t stride, int interpolation) {
    try {
        const cv::Mat src(in_h, in_w, CV_8UC(channels), const_cast<uint8_t*>(in),
                          static_cast<std::size_t>(in_w) * channels);
        cv::Mat dst(resized_h, resized_w, CV_8UC(channels), paste, static_cast<std::size_t>(stride));
        // dst already has the requested size and type, so cv::resize writes into it in place.
        cv::resize(src, dst, cv::Size(resized_w, resized_h), 0, 0,
                   interpolation == WP_OPENCV_AREA ? cv::INTER_AREA : cv::INTER_LINEAR);
        if (dst.data != paste) return WP_EOPENCV;
    } catch (const cv::Exception&) {
        return WP_EOPENCV;
    }
    return WP_OK;
}
