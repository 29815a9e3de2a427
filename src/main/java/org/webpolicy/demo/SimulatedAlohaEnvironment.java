package org.webpolicy.demo;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.Shape;
import org.webpolicy.image.ImageTools;
import org.webpolicy.runtime.Environment;

/**
 * A stand-in for an ALOHA robot: three cameras ({@link #CAMERAS}) of 480 x 640 RGB and 14 joint
 * positions, with observations laid out as openpi's ALOHA client sends them:
 * {@code {"state": float64 (14,), "images": {"cam_high": uint8 (3, 224, 224), ...}, "prompt": str}}.
 * The frames are resized with {@link ImageTools#resizeWithPad} (Pillow-exact, native when
 * available) and moved from height-width-channel to channel-height-width, as openpi's
 * {@code einops.rearrange(img, "h w c -> c h w")}.
 *
 * <p>The camera content is a diagonal gradient that moves a little each step. A few frames are
 * drawn once and then rotated, so producing them costs nothing per step and the measured time
 * is the image preprocessing a real client does. Applying an action sets the joints to its
 * {@code actions} array (position control). The episode never completes by itself; the
 * runtime's step limit ends it.
 *
 * <p>Not thread-safe: one runtime drives it.
 */
public final class SimulatedAlohaEnvironment implements Environment {

    /** The camera names, as openpi's ALOHA client has them (without {@code cam_low}). */
    public static final List<String> CAMERAS = List.of("cam_high", "cam_left_wrist", "cam_right_wrist");
    /** Joints in the state vector and in each action: 2 arms of 6 joints and a gripper each. */
    public static final int STATE_DIM = 14;
    /** Camera frame height, pixels. */
    public static final int FRAME_HEIGHT = 480;
    /** Camera frame width, pixels. */
    public static final int FRAME_WIDTH = 640;
    /** Side of the square images the model gets, after {@code resizeWithPad}. */
    public static final int MODEL_IMAGE_SIZE = 224;
    private static final int DISTINCT_FRAMES = 6;

    private final String prompt;
    /** Each [cameras, 480, 640, 3]; one camera's frame is a slice (a view). */
    private final NdArray[] frames = new NdArray[DISTINCT_FRAMES];
    private final double[] state = new double[STATE_DIM];
    private long step;
    private long observations;
    private long resizeNanos;
    /** Real cameras feeding the images instead of the drawn frames, or null. */
    private final org.webpolicy.camera.CameraGroup cameras;
    private final org.webpolicy.camera.FrameConverter toModel = new org.webpolicy.camera.FrameConverter(
            MODEL_IMAGE_SIZE, MODEL_IMAGE_SIZE, org.webpolicy.camera.FrameConverter.Layout.CHW);
    /** The last camera images sent, for the step on which a camera ends. */
    private Map<String, Object> lastCameraImages;
    /** Why a camera ended the run (end of file, a vanished device), or null while they run. */
    private String cameraEnd;
    private long cameraEndStep = -1;

    /** @param prompt the task prompt sent with every observation */
    public SimulatedAlohaEnvironment(String prompt) {
        this(prompt, null);
    }

    /**
     * The simulated robot with real cameras: each observation takes the newest frame of every
     * camera of {@code cameras} (camera {@code i} feeds {@code CAMERAS.get(i)}; with fewer than
     * three, the last one also feeds the rest), converted to RGB {@code [3, 224, 224]}. A camera
     * slower than the loop gives its previous frame again rather than making the step wait
     * ({@link org.webpolicy.camera.Camera#reusedFrames()} counts it). A camera that stops (the end
     * of a file, a vanished device) completes the episode, its last frames sent once more, and
     * {@link #cameraEnd()} says why.
     *
     * @param prompt the task prompt sent with every observation
     * @param cameras one to three running cameras, or null for the drawn frames; the caller closes them
     * @throws IllegalArgumentException for more than three cameras
     */
    public SimulatedAlohaEnvironment(String prompt, org.webpolicy.camera.CameraGroup cameras) {
        if (cameras != null && cameras.cameras().size() > CAMERAS.size()) {
            throw new IllegalArgumentException("The simulated ALOHA has " + CAMERAS.size() + " cameras, got "
                    + cameras.cameras().size());
        }
        this.cameras = cameras;
        this.prompt = prompt;
        for (int f = 0; f < DISTINCT_FRAMES; f++) {
            frames[f] = drawFrame(f);
        }
        // Loads the native library (if any) and warms the resize up now, not in the first step.
        ImageTools.resizeWithPad(frames[0].slice(0), MODEL_IMAGE_SIZE, MODEL_IMAGE_SIZE);
    }

    private static NdArray drawFrame(int f) {
        int cams = CAMERAS.size();
        byte[] pixels = new byte[cams * FRAME_HEIGHT * FRAME_WIDTH * 3];
        int i = 0;
        for (int cam = 0; cam < cams; cam++) {
            for (int y = 0; y < FRAME_HEIGHT; y++) {
                for (int x = 0; x < FRAME_WIDTH; x++) {
                    int g = (x + y) / 4 + 12 * f + 60 * cam;
                    pixels[i++] = (byte) g;
                    pixels[i++] = (byte) (g + 85);
                    pixels[i++] = (byte) (255 - g);
                }
            }
        }
        return NdArray.wrap(DType.UINT8, Shape.of(cams, FRAME_HEIGHT, FRAME_WIDTH, 3), ByteBuffer.wrap(pixels));
    }

    @Override
    public void reset() {
        java.util.Arrays.fill(state, 0.0);
        step = 0;
    }

    @Override
    public boolean isEpisodeComplete() {
        return cameraEnd != null;
    }

    /**
     * Why a camera ended the run, and at which step.
     *
     * @return the camera's own message (naming it, its source and the reason), or empty while
     *     every camera runs
     */
      java.util.Optional<String> cameraEnd() {
        return java.util.Optional.ofNullable(cameraEnd);
    }

    /**
     * The step (counted over all episodes, from 0) whose observation found a camera ended.
     *
     * @return the step, or -1 while every camera runs
     */
    public long cameraEndStep() {
        return cameraEndStep;
    }

    @Override
    public Map<String, Object> getObservation() {
        Map<String, Object> images = cameras == null ? drawnImages() : cameraImages();
        observations++;
        Map<String, Object> obs = new LinkedHashMap<>();
        obs.put("state", NdArray.ofFloat64(state.clone()));
        obs.put("images", images);
        obs.put("prompt", prompt);
        return obs;
    }

    /**
     * The newest frame per camera, converted. A camera that stopped ends the run (the last
     * images again for this step); no first frame within 2 s fails the step.
     */
    private Map<String, Object> cameraImages() {
        org.webpolicy.camera.CameraGroup.Step frames;
        try {
            frames = cameras.newest(java.time.Duration.ofSeconds(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while waiting for camera frames", e);
        } catch (org.webpolicy.camera.CameraException e) {
            boolean stopped = cameras.cameras().stream().anyMatch(c -> c.stopReason().isPresent());
            if (!stopped || lastCameraImages == null) {
                throw e;
            }
            if (cameraEnd == null) {
                cameraEnd = e.getMessage();
                cameraEndStep = observations;
            }
            return lastCameraImages;
        }
        long start = System.nanoTime();
        java.util.List<NdArray> converted = new java.util.ArrayList<>(toModel.convert(frames).values());
        resizeNanos += System.nanoTime() - start;
        Map<String, Object> images = new LinkedHashMap<>();
        for (int cam = 0; cam < CAMERAS.size(); cam++) {
            images.put(CAMERAS.get(cam), converted.get(Math.min(cam, converted.size() - 1)));
        }
        lastCameraImages = images;
        return images;
    }

    private Map<String, Object> drawnImages() {
        NdArray frame = frames[(int) (step % DISTINCT_FRAMES)];
        Map<String, Object> images = new LinkedHashMap<>();
        for (int cam = 0; cam < CAMERAS.size(); cam++) {
            // One camera at a time on this thread: a batch call would fan out to the common
            // fork-join pool, which costs more than it saves for three images on a busy machine.
            long start = System.nanoTime();
            NdArray resized = ImageTools.resizeWithPad(frame.slice(cam), MODEL_IMAGE_SIZE, MODEL_IMAGE_SIZE);
            resizeNanos += System.nanoTime() - start;
            images.put(CAMERAS.get(cam), channelsFirst(resized));
        }
        return images;
    }

    /**
     * Sets the joints to {@code action["actions"]}, a float (14,) array.
     *
     * @throws IllegalArgumentException when the action has no such array
     */
    @Override
    public void applyAction(Map<String, Object> action) {
        if (!(action.get("actions") instanceof NdArray a) || !a.shape().equals(Shape.of(STATE_DIM))) {
            throw new IllegalArgumentException("The simulated ALOHA needs an action {\"actions\": float (" + STATE_DIM
                    + ",)}, got " + action);
        }
        double[] target = a.toDoubleArray();
        System.arraycopy(target, 0, state, 0, STATE_DIM);
        step++;
    }

    /**
     * Observations made so far (one per step).
     *
     * @return the count
     */
    public long observations() {
        return observations;
    }

    /**
     * Time spent in {@link ImageTools#resizeWithPad} so far, all cameras of all steps.
     *
     * @return nanoseconds
     */
    public long resizeNanos() {
        return resizeNanos;
    }

    /** {@code [h, w, c]} to a new {@code [c, h, w]} array. */
    static NdArray channelsFirst(NdArray hwc) {
        int h = (int) hwc.shape().dim(0);
        int w = (int) hwc.shape().dim(1);
        int c = (int) hwc.shape().dim(2);
        ByteBuffer in = hwc.data();
        byte[] out = new byte[h * w * c];
        int plane = h * w;
        for (int p = 0; p < plane; p++) {
            for (int k = 0; k < c; k++) {
                out[k * plane + p] = in.get(p * c + k);
            }
        }
        return NdArray.wrap(DType.UINT8, Shape.of(c, h, w), ByteBuffer.wrap(out));
    }
}
