package org.webpolicy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.webpolicy.demo.AlohaDemo;
import org.webpolicy.demo.DemoPolicy;
import org.webpolicy.demo.DemoResult;
import org.webpolicy.image.compression.ImageCodec;
import org.webpolicy.transport.PolicyServer;
import picocli.CommandLine;

class DemoCommandTest {

    private static DemoResult runDemo(StringWriter out, String... args) {
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        String[] full = new String[args.length + 1];
        full[0] = "demo";
        System.arraycopy(args, 0, full, 1, args.length);
        assertEquals(0, cli.execute(full), out.toString());
        return ((DemoCommand) cli.getSubcommands().get("demo").getCommand()).result();
    }

    @Test
    void theDemoRunsTheRequestedStepsThroughTheAsyncBrokerAndReportsThem() {
        StringWriter out = new StringWriter();
        DemoResult r = runDemo(out, "--steps", "60");
        assertEquals(60, r.steps());
        assertEquals(1, r.episodes());
        // 60 steps of a 25-step horizon take at least 3 chunks; asking ahead takes a few more.
        assertTrue(r.chunksRequested() >= 3 && r.chunksRequested() <= 60, "chunks " + r.chunksRequested());
        assertTrue(r.waits() >= 1 && r.waits() < r.chunksRequested(), "waits " + r.waits());
        assertEquals(60, r.latency().steps());
        assertTrue(r.resizeNanosPerStep() > 0);
        assertEquals(AlohaDemo.imagePath(), r.imagePath());
        String text = out.toString();
        for (String line : new String[] {"steps:             60 in 1 episode(s)", "chunks requested:", "getAction latency: p50",
                "missed deadlines:", "image resize:", "image path:        " + r.imagePath()}) {
            assertTrue(text.contains(line), "missing '" + line + "' in:\n" + text);
        }
    }

    @Test
    void theDemoTakesItsImagesFromRealCamerasGivenWithCamera(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        java.nio.file.Path video = dir.resolve("cam.avi");
        org.bytedeco.opencv.opencv_videoio.VideoWriter writer = new org.bytedeco.opencv.opencv_videoio.VideoWriter(
                video.toString(), org.bytedeco.opencv.opencv_videoio.VideoWriter.fourcc((byte) 'M', (byte) 'J',
                (byte) 'P', (byte) 'G'), 30.0, new org.bytedeco.opencv.opencv_core.Size(320, 240), true);
        assertTrue(writer.isOpened(), "VideoWriter cannot write MJPG/AVI here");
        for (int n = 0; n < 150; n++) { // 5 s at 30 Hz, more than the steps need
            org.bytedeco.opencv.opencv_core.Mat m = new org.bytedeco.opencv.opencv_core.Mat(240, 320,
                    org.bytedeco.opencv.global.opencv_core.CV_8UC3,
                    new org.bytedeco.opencv.opencv_core.Scalar(n, 255 - n, 128, 0));
            writer.write(m);
            m.close();
        }
        writer.release();
        StringWriter out = new StringWriter();
        DemoResult r = runDemo(out, "--steps", "20", "--camera", video.toString(), "--camera", video.toString());
        assertEquals(20, r.steps());
        assertTrue(out.toString().contains("cameras:           [file " + video + ", file " + video + "]"), out.toString());
        assertTrue(r.resizeNanosPerStep() > 0);
        CommandLine cli = Main.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err, true));
        cli.setOut(new PrintWriter(new StringWriter(), true));
        int status = cli.execute("demo", "--steps", "5", "--camera", dir.resolve("missing.avi").toString());
        assertTrue(status != 0, "a missing camera file fails the run");
        assertTrue(err.toString().contains("missing.avi") && err.toString().contains("no such file"), err.toString());
    }

    @Test
    void theSchedulerRunsTheDemoAndReportsChunkQuality() {
        StringWriter out = new StringWriter();
        DemoResult r = runDemo(out, "--steps", "120", "--broker", "scheduler", "--ignore-continuation");
        assertEquals(120, r.steps());
        assertEquals(120, r.scheduler().actions(), "one executed action per step, none held");
        assertEquals(0, r.scheduler().faults());
        assertTrue(r.chunkQuality().motion().seams() >= 2, "120 actions of 50-step chunks switch at least twice");
        assertEquals(r.scheduler().motion().seams(), r.chunkQuality().motion().seams(),
                "the subscriber finds the scheduler's switches");
        String text = out.toString();
        for (String line : new String[] {"scheduler broker (whole chunks", "chunk seams:", "continuation:", "scheduler:"}) {
            assertTrue(text.contains(line), "missing '" + line + "' in:\n" + text);
        }
        assertTrue(text.contains("continuation:      not sent"), text);
    }

    @Test
    void theContinuationTravelsOverWebSocketToTheDemoPolicyThatHonoursIt() {
        StringWriter out = new StringWriter();
        DemoResult r = runDemo(out, "--steps", "60", "--broker", "scheduler");
        assertTrue(r.continuationSent(), out.toString());
        assertTrue(out.toString().contains("continuation:      sent (the server takes it)"), out.toString());
        assertEquals(0, r.scheduler().faults());
    }

    @Test
    void aLoopedThreeSecondVideoFeedsAThousandStepsAndTheSlowCameraIsExplained(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        // 3 s of video at 30 fps, a 200 Hz loop: 1 000 steps take at least 5 s, so the file plays
        // out at least once and most steps find no newer frame.
        java.nio.file.Path video = org.webpolicy.camera.TestVideos.write(dir.resolve("three-seconds.avi"), 90, 30.0);
        StringWriter out = new StringWriter();
        DemoResult r = runDemo(out, "--steps", "1000", "--hz", "200", "--inference-ms", "0", "--camera", video.toString(),
                "--camera-loop");
        assertEquals(1000, r.steps(), out.toString());
        assertEquals(null, r.endedEarly(), out.toString());
        org.webpolicy.demo.CameraReport cam = r.cameras().get(0);
        assertTrue(cam.loops() >= 1, "the file played out and started over: " + out);
        assertTrue(cam.framesRead() > 90, out.toString());
        assertTrue(cam.reusedFrames() > 0 && cam.reusedFrames() < 1000, out.toString());
        String text = out.toString();
        for (String expected : new String[] {"camera cam_high:   file " + video + " at 30.0 fps, ",
                " step(s) reused its previous frame: the camera is slower than the 200 Hz loop"}) {
            assertTrue(text.contains(expected), "missing '" + expected + "' in:\n" + text);
        }
        assertTrue(!text.contains("ended early"), text);
    }

    @Test
    void aVideoThatEndsEndsTheRunWithASummary(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        // Half a second of video, 2 000 steps at 200 Hz (10 s): the file ends first.
        java.nio.file.Path video = org.webpolicy.camera.TestVideos.write(dir.resolve("short.avi"), 30, 60.0);
        StringWriter out = new StringWriter();
        DemoResult r = runDemo(out, "--steps", "2000", "--episodes", "2", "--hz", "200", "--inference-ms", "0",
                "--camera", video.toString());
        assertTrue(r.steps() < 2000, "the run stopped at the end of the file: " + out);
        assertEquals(1, r.episodes(), "no second episode after the camera ended: " + out);
        String text = out.toString();
        for (String expected : new String[] {"steps:             " + r.steps() + " in 1 episode(s)",
                "ended early:       after " + r.steps() + " of 4000 step(s), a camera ended at step ",
                ": Camera 'cam_high' (file " + video + ") stopped: end of file after 30 frames"
                        + " (--camera-loop plays a file again from its start)",
                "camera cam_high:   file " + video + " at 60.0 fps, 30 frame(s) read"}) {
            assertTrue(text.contains(expected), "missing '" + expected + "' in:\n" + text);
        }
    }

    @Test
    void theSyncBrokerWaitsForEveryChunkOverSeveralEpisodes() {
        DemoResult r = runDemo(new StringWriter(), "--steps", "30", "--episodes", "2", "--broker", "sync",
                "--hz", "200", "--action-horizon", "10", "--inference-ms", "0");
        assertEquals(60, r.steps());
        assertEquals(2, r.episodes());
        assertEquals(6, r.chunksRequested(), "3 chunks of 10 per episode");
        assertEquals(r.chunksRequested(), r.waits());
        assertEquals(2, r.perEpisode().size());
    }

    @Test
    void connectUsesAnExternalServer() {
        DemoPolicy policy = new DemoPolicy(Duration.ZERO);
        try (PolicyServer server = PolicyServer.builder(policy).host("127.0.0.1").port(0).build().start()) {
            DemoResult r = runDemo(new StringWriter(), "--steps", "20", "--hz", "200",
                    "--connect", "ws://127.0.0.1:" + server.port());
            assertEquals(20, r.steps());
            assertEquals(r.chunksRequested(), policy.calls(), "every chunk came from the external server");
            assertEquals(1, policy.resets(), "the episode's reset reached it");
        }
    }

    @Test
    void imagesTravelCompressedWhenTheServerAcceptsAndRawWhenItDeclines() {
        StringWriter out = new StringWriter();
        DemoResult r = runDemo(out, "--steps", "20", "--hz", "200", "--image-codec", "jpeg:80");
        assertEquals(20, r.steps(), "the demo policy's observation spec passes the decoded images");
        assertEquals(ImageCodec.jpeg(80), r.imageCodec());
        assertTrue(out.toString().contains("images on wire:    jpeg:80\n"), out.toString());

        DemoPolicy policy = new DemoPolicy(Duration.ZERO);
        try (PolicyServer server = PolicyServer.builder(policy).acceptImageCodecs(false).host("127.0.0.1").port(0)
                .build().start()) {
            StringWriter declined = new StringWriter();
            r = runDemo(declined, "--steps", "10", "--hz", "200", "--image-codec", "png",
                    "--connect", "ws://127.0.0.1:" + server.port());
            assertEquals(ImageCodec.RAW, r.imageCodec());
            assertTrue(declined.toString().contains("images on wire:    raw (png asked for; the server did not accept it)"),
                    declined.toString());
        }
    }
}
