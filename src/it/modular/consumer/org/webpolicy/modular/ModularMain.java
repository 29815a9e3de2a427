package org.webpolicy.modular;

import java.util.Arrays;
import java.util.Map;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.Shape;
import org.webpolicy.image.ApproximateFilter;
import org.webpolicy.image.ImageTools;
import org.webpolicy.image.compression.ImageCodec;
import org.webpolicy.policy.Policy;
import org.webpolicy.transport.PolicyClient;
import org.webpolicy.transport.PolicyServer;

/**
 * Run by scripts/check_module_path with the library jar and its dependencies on the module path:
 * checks that the library came as the named module org.webpolicy exporting its API and not its
 * machinery, serves a policy and steps it once from a client (a camera image through JPEG, which
 * our native library or the JDK codec decodes), and resizes an image with the native code forced
 * on ({@code -Dwebpolicy.native=on}) or off, comparing both paths; with the argument {@code opencv}
 * (OpenCV's jars on the module path too) the approximate resize must work, without it it must fail
 * naming what to add. Exits non-zero on any failure.
 */
public final class ModularMain {

    private ModularMain() {
    }

    public static void main(String[] args) throws Exception {
        Module library = PolicyServer.class.getModule();
        check(library.isNamed() && "org.webpolicy".equals(library.getName()),
                "the library is not the named module org.webpolicy but " + library);
        check(ModularMain.class.getModule().isNamed(), "this program does not run as a module");
        for (String api : new String[] {"org.webpolicy.transport", "org.webpolicy.array", "org.webpolicy.image"}) {
            check(library.isExported(api), api + " is not exported");
        }
        for (String inside : new String[] {"org.webpolicy.transport.server", "org.webpolicy.transport.frame",
                "org.webpolicy.internal.nativelib"}) {
            check(!library.isExported(inside), inside + " is exported");
            check(library.getPackages().contains(inside), inside + " is not in the module at all");
        }
        check(!library.getPackages().contains("org.webpolicy.cli"), "the library module carries the command line");

        byte[] pixels = new byte[48 * 64 * 3];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (i * 7 + i / 192);
        }
        NdArray image = NdArray.ofUint8(pixels, 48, 64, 3);
        Policy policy = observation -> {
            NdArray camera = (NdArray) observation.get("image");
            NdArray state = (NdArray) observation.get("state");
            return Map.of("actions", NdArray.ofFloat64(new double[] {state.toDoubleArray()[0] + 1, camera.shape().dim(0)}, 2));
        };
        Map<String, Object> action;
        try (PolicyServer server = PolicyServer.builder(policy).host("127.0.0.1").port(0).build().start();
                PolicyClient client = PolicyClient.builder().uri("ws://127.0.0.1:" + server.port())
                        .imageCodec(ImageCodec.jpeg(90)).build().connect()) {
            action = client.step(Map.of("image", image, "state", NdArray.ofFloat64(new double[] {41.0}, 1)));
        }
        double[] actions = ((NdArray) action.get("actions")).toDoubleArray();
        check(Arrays.equals(actions, new double[] {42.0, 48.0}), "the step came back as " + Arrays.toString(actions));

        String mode = System.getProperty(ImageTools.NATIVE_PROPERTY, "auto");
        String backend = ImageTools.backendName(); // with "on", throws with the reason when the library cannot load
        NdArray resized = ImageTools.resizeWithPad(image, 24, 24);
        System.setProperty(ImageTools.NATIVE_PROPERTY, "off");
        NdArray reference = ImageTools.resizeWithPad(image, 24, 24);
        check(resized.shape().equals(Shape.of(24, 24, 3)), "resized to " + resized.shape());
        check(Arrays.equals(resized.toByteArray(), reference.toByteArray()), "the " + backend + " resize differs from the Java one");
        check(!mode.equals("on") || backend.equals("native"), "native code forced on, but the backend is " + backend);
        check(!mode.equals("off") || backend.equals("java"), "native code forced off, but the backend is " + backend);
        // OpenCV is required statically: with the argument "opencv" its jars are on the module path and
        // resolved (--add-modules), and the approximate resize must run; without, it must say what to add.
        boolean opencv = args.length > 0 && args[0].equals("opencv");
        String approximate;
        try {
            NdArray smooth = ImageTools.resizeWithPadApproximate(image, 24, 24, ApproximateFilter.LINEAR);
            check(opencv, "the approximate resize ran without OpenCV on the module path");
            check(smooth.shape().equals(Shape.of(24, 24, 3)), "approximate resize to " + smooth.shape());
            approximate = "approximate resize through OpenCV";
        } catch (IllegalStateException e) {
            if (opencv || e.getMessage() == null || !e.getMessage().contains("org.bytedeco:opencv:")
                    || !e.getMessage().contains("--add-modules org.bytedeco.opencv.")) {
                throw e;
            }
            approximate = "without OpenCV the approximate resize names the jars and modules to add";
        }
        System.out.println("module path consumer OK: " + library.getDescriptor().toNameAndVersion() + ", "
                + library.getDescriptor().exports().size() + " packages exported of " + library.getPackages().size()
                + "; one step over ws:// with JPEG images; image path " + backend + "; " + approximate);
    }

    private static void check(boolean ok, String failure) {
        if (!ok) {
            throw new IllegalStateException(failure);
        }
    }
}
