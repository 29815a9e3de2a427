package org.webpolicy.camera;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.Shape;
import org.webpolicy.image.ImageLayout;
import org.webpolicy.image.ImageTools;

/**
 * Cameras on video files written by OpenCV's VideoWriter: order, content, accounting of dropped
 * frames, the end of a file, and the pipeline to RGB CHW 224x224. No assertion depends on timing:
 * files play as fast as they decode, and every count is checked by an identity.
 */
class CameraTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Camera.Options UNPACED = new Camera.Options(30, 0);

    @TempDir
    Path dir;

    @Test
    void framesComeInOrderWithTheirOwnContentAndEveryFrameIsTakenOrCountedAsDropped() throws Exception {
        Path video = TestVideos.write(dir.resolve("a.avi"), 60);
        List<Long> sequences = new ArrayList<>();
        try (Camera camera = Camera.open("cam_high", CameraSource.file(video), UNPACED)) {
            CameraException end;
            while (true) {
                Frame f;
                try {
                    f = camera.next(WAIT);
                } catch (CameraException e) {
                    end = e;
                    break;
                }
                assertEquals(Shape.of(TestVideos.HEIGHT, TestVideos.WIDTH, 3), f.image().shape());
                assertTrue(f.image().data().isDirect(), "a frame is a view of OpenCV's buffer, not a copy");
                assertEquals(f.sequence() - 1, TestVideos.numberInBgrFrame(f.image()), "content of frame " + f.sequence());
                assertTrue(sequences.isEmpty() || f.sequence() > sequences.get(sequences.size() - 1), "order");
                sequences.add(f.sequence());
                Thread.sleep(3); // a slow consumer: the camera drops what it does not take
            }
            assertEquals("Camera 'cam_high' (file " + video + ") stopped: end of file after 60 frames", end.getMessage());
            assertEquals(60, sequences.get(sequences.size() - 1), "the last frame is always delivered");
            assertEquals(60, sequences.size() + camera.droppedFrames(), "taken + dropped = written");
            assertEquals(0, camera.emptyReads());
            assertEquals("end of file after 60 frames", camera.stopReason().orElseThrow());
        }
    }

    @Test
    void theConverterGivesRgbChw224FromOneReadOfTheFrame() throws Exception {
        Path video = TestVideos.write(dir.resolve("b.avi"), 12);
        FrameConverter chw = new FrameConverter(224, 224, FrameConverter.Layout.CHW);
        FrameConverter hwc = new FrameConverter(224, 224, FrameConverter.Layout.HWC);
        int seen = 0;
        try (Camera camera = Camera.open("cam", CameraSource.file(video), UNPACED)) {
            while (true) {
                Frame f;
                try {
                    f = camera.next(WAIT);
                } catch (CameraException end) {
                    break;
                }
                NdArray out = chw.convert(f);
                assertEquals(Shape.of(3, 224, 224), out.shape());
                NdArray expected = ImageLayout.hwcToChw(ImageLayout.swapRedBlue(ImageTools.resizeWithPad(f.image().copy(),
                        224, 224)));
                assertArrayEquals(expected.toByteArray(), out.toByteArray(), "resize of BGR then swap = resize of RGB");
                assertEquals(f.sequence() - 1, TestVideos.numberInRgbChw(out), "the number survives, in the blue plane");
                assertEquals(ImageLayout.chwToHwc(out), hwc.convert(f));
                seen++;
            }
        }
        assertTrue(seen >= 1, "at least the last frame is delivered");
    }

    @Test
    void aGroupReturnsOneFramePerCameraWithTheirSkew() throws Exception {
        Map<String, CameraSource> sources = new LinkedHashMap<>();
        sources.put("cam_high", CameraSource.file(TestVideos.write(dir.resolve("h.avi"), 240)));
        sources.put("cam_left_wrist", CameraSource.file(TestVideos.write(dir.resolve("l.avi"), 240)));
        // Played at 30 Hz, as cameras: 8 s of frames for 3 steps.
        try (CameraGroup group = CameraGroup.open(sources, new Camera.Options(30, 30))) {
            long[] last = new long[2];
            for (int step = 0; step < 3; step++) {
                CameraGroup.Step s = group.next(WAIT);
                assertEquals(List.of("cam_high", "cam_left_wrist"), new ArrayList<>(s.frames().keySet()));
                long min = Long.MAX_VALUE;
                long max = Long.MIN_VALUE;
                int i = 0;
                for (Frame f : s.frames().values()) {
                    assertTrue(f.sequence() > last[i], "a new frame from every camera each step");
                    last[i++] = f.sequence();
                    assertEquals(f.sequence() - 1, TestVideos.numberInBgrFrame(f.image()));
                    min = Math.min(min, f.captureNanos());
                    max = Math.max(max, f.captureNanos());
                }
                assertEquals(max - min, s.skewNanos());
                Map<String, NdArray> arrays = new FrameConverter(224, 224, FrameConverter.Layout.CHW).convert(s);
                assertEquals(Shape.of(3, 224, 224), arrays.get("cam_left_wrist").shape());
            }
        }
    }

    @Test
    void aFilePlaysFromTheFirstReadNotFromOpen() throws Exception {
        // 10 frames at 30 fps play in a third of a second; the reader comes after twice that.
        Path video = TestVideos.write(dir.resolve("late.avi"), 10);
        try (Camera camera = Camera.open("cam", CameraSource.file(video), new Camera.Options(30, 30))) {
            while (camera.framesRead() == 0) {
                Thread.sleep(5); // the first frame decoded, and published without a read
            }
            Thread.sleep(700);
            assertEquals(1, camera.framesRead(), "the file waits for its reader at its first frame");
            Frame first = camera.next(WAIT);
            assertEquals(1, first.sequence());
            assertEquals(0, TestVideos.numberInBgrFrame(first.image()));
            long taken = 1;
            while (true) {
                try {
                    camera.next(WAIT);
                    taken++;
                } catch (CameraException end) {
                    assertTrue(end.getMessage().endsWith("stopped: end of file after 10 frames"), end.getMessage());
                    break;
                }
            }
            assertEquals(10, taken + camera.droppedFrames(), "taken + dropped = written");
        }
    }

    @Test
    void aLoopedFileStartsOverWithItsOwnFramesAndKeepsCountingSequences() throws Exception {
        Path video = TestVideos.write(dir.resolve("loop.avi"), 12);
        try (Camera camera = Camera.open("cam", CameraSource.file(video), UNPACED.withLoop(true))) {
            long last = 0;
            while (last < 40) {
                Frame f = camera.next(WAIT);
                assertTrue(f.sequence() > last, "order");
                last = f.sequence();
                assertEquals((f.sequence() - 1) % 12, TestVideos.numberInBgrFrame(f.image()),
                        "content of frame " + f.sequence());
            }
            assertTrue(camera.loops() >= 3, "loops " + camera.loops());
            assertTrue(camera.stopReason().isEmpty(), "a looped file does not stop: " + camera.stopReason());
        }
    }

    @Test
    void newestReusesTheLastFrameWhenTheCameraIsSlowerThanItsReaderAndCountsIt() throws Exception {
        Path video = TestVideos.write(dir.resolve("slow.avi"), 3);
        // One frame every 100 s: every read after the first finds no newer frame.
        try (Camera camera = Camera.open("cam", CameraSource.file(video), new Camera.Options(30, 0.01))) {
            Frame first = camera.newest(WAIT);
            assertEquals(1, first.sequence());
            for (int i = 0; i < 5; i++) {
                assertEquals(1, camera.newest(WAIT).sequence());
            }
            assertEquals(5, camera.reusedFrames());
            assertEquals(0, camera.droppedFrames());
        }
        Path shortVideo = TestVideos.write(dir.resolve("short.avi"), 4);
        try (Camera camera = Camera.open("cam", CameraSource.file(shortVideo), UNPACED)) {
            CameraException end = assertThrows(CameraException.class, () -> {
                while (true) {
                    camera.newest(WAIT);
                }
            });
            assertTrue(end.getMessage().endsWith("stopped: end of file after 4 frames"), end.getMessage());
        }
    }

    @Test
    void sourcesThatCannotOpenAreNamed() throws Exception {
        CameraException e = assertThrows(CameraException.class,
                () -> Camera.open("cam", CameraSource.file(dir.resolve("missing.avi"))));
        assertTrue(e.getMessage().contains("'cam'") && e.getMessage().contains("no such file"), e.getMessage());
        Path text = Files.writeString(dir.resolve("notes.avi"), "not a video");
        e = assertThrows(CameraException.class, () -> Camera.open("cam", CameraSource.file(text)));
        assertTrue(e.getMessage().contains("could not open"), e.getMessage());
        Map<String, CameraSource> sources = new LinkedHashMap<>();
        sources.put("ok", CameraSource.file(TestVideos.write(dir.resolve("ok.avi"), 5)));
        sources.put("bad", CameraSource.file(dir.resolve("missing.avi")));
        e = assertThrows(CameraException.class, () -> CameraGroup.open(sources, UNPACED));
        assertTrue(e.getMessage().contains("'bad'"), e.getMessage());
    }

    @Test
    void sourcesParseFromTheCommandLine() {
        assertEquals(CameraSource.device(0), CameraSource.parse("0"));
        assertEquals(CameraSource.Kind.URL, CameraSource.parse("rtsp://127.0.0.1:8554/cam").kind());
        assertEquals(CameraSource.Kind.GSTREAMER, CameraSource.parse("videotestsrc ! appsink").kind());
        assertEquals(CameraSource.Kind.FILE, CameraSource.parse("/data/run1.avi").kind());
        assertThrows(IllegalArgumentException.class, () -> CameraSource.parse(" "));
        assertThrows(IllegalArgumentException.class, () -> CameraSource.device(-1));
        assertThrows(IllegalArgumentException.class, () -> new FrameConverter(224, 0, FrameConverter.Layout.HWC));
    }

    @Test
    void aClosedCameraSaysSoAndClosingTwiceIsHarmless() throws Exception {
        Path video = TestVideos.write(dir.resolve("c.avi"), 200);
        Camera camera = Camera.open("cam", CameraSource.file(video), new Camera.Options(30, 30));
        camera.next(WAIT);
        camera.close();
        camera.close();
        CameraException e = assertThrows(CameraException.class, () -> {
            while (true) {
                camera.next(WAIT);
            }
        });
        assertTrue(e.getMessage().endsWith("stopped: closed"), e.getMessage());
    }
}
