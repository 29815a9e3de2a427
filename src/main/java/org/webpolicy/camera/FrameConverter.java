package org.webpolicy.camera;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.webpolicy.array.NdArray;
import org.webpolicy.image.ImageLayout;
import org.webpolicy.image.ImageTools;

/**
 * Turns OpenCV frames (BGR, channels-last) into the arrays a policy expects: RGB, in the layout
 * asked for, resized with the Pillow-exact {@link ImageTools#resizeWithPad} when a size is given.
 *
 * <p>Copies: the resize reads OpenCV's buffer in place (the native path takes a frame's direct
 * memory without copying) and writes the small resized image; the red/blue exchange and the
 * layout change are then one pass over that small image. So each frame's pixels are read once and
 * never copied at full size. (The resize runs on BGR: it treats channels independently, so the
 * bytes equal resizing the RGB image.) Without a resize, the exchange is the one copy. An
 * immutable value; thread-safe.
 *
 * @param height the output height, or 0 to keep the frame's size
 * @param width the output width, or 0 to keep the frame's size
 * @param layout channels-last ([h, w, 3]) or channels-first ([3, h, w])
 */
public record FrameConverter(int height, int width, Layout layout) {

    /** Where the channel axis goes. */
    public enum Layout {
        /** {@code [h, w, c]}. */
        HWC,
        /** {@code [c, h, w]}, as openpi's ALOHA observations. */
        CHW
    }

    /**
     * Checks the values.
     *
     * @param height the output height, or 0 to keep the frame's size
     * @param width the output width, or 0 to keep the frame's size
     * @param layout the output layout
     * @throws IllegalArgumentException for a negative side, or one side 0 and the other not
     * @throws NullPointerException if {@code layout} is null
     */
    public FrameConverter {
        Objects.requireNonNull(layout, "layout");
        if (height < 0 || width < 0 || (height == 0) != (width == 0)) {
            throw new IllegalArgumentException("Output size must be two positive sides or 0x0 (no resize), got "
                    + height + "x" + width);
        }
    }

    /**
     * One frame as an RGB (or grey) array.
     *
     * @param frame a camera's frame
     * @return {@code [height, width, c]} or {@code [c, height, width]} uint8, RGB for colour
     * @throws IllegalArgumentException for a frame whose size cannot be resized to the target
     */
    public NdArray convert(Frame frame) {
        NdArray image = frame.image();
        int c = (int) image.shape().dim(2);
        NdArray sized = image;
        if (height > 0) {
            if (c == 1) { // resizeWithPad takes grey as [h, w] and returns [1, h, w]
                NdArray grey = ImageTools.resizeWithPad(image.reshape(image.shape().dim(0), image.shape().dim(1)),
                        height, width);
                return layout == Layout.CHW ? grey : grey.reshape(height, width, 1);
            }
            sized = ImageTools.resizeWithPad(image, height, width);
        }
        boolean colour = c == 3 || c == 4;
        if (layout == Layout.CHW) {
            return ImageLayout.hwcToChw(sized, colour);
        }
        return colour ? ImageLayout.swapRedBlue(sized) : sized == image ? image.copy() : sized;
    }

    /**
     * A step's frames as arrays, by camera name, converted in parallel where cores allow.
     *
     * @param step one frame per camera
     * @return each camera's array, in the step's order
     */
    public Map<String, NdArray> convert(CameraGroup.Step step) {
        Map<String, NdArray> out = new LinkedHashMap<>();
        var names = step.frames().keySet().toArray(new String[0]);
        NdArray[] arrays = new NdArray[names.length];
        java.util.stream.IntStream.range(0, names.length).parallel()
                .forEach(i -> arrays[i] = convert(step.frames().get(names[i])));
        for (int i = 0; i < names.length; i++) {
            out.put(names[i], arrays[i]);
        }
        return out;
    }
}
