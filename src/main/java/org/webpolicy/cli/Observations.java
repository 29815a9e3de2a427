package org.webpolicy.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.webpolicy.array.NdArray;

/**
 * Random observations in the formats of the robots openpi serves (docs/PROTOCOL.md, "Typical
 * observations"), for exercising a server without a robot. {@code --env} takes their names in
 * lower case ({@link Choices.Environments}).
 */
enum Observations {
    /** 4 cameras uint8 (3, 224, 224), state float64 (14,), a prompt. */
    ALOHA,
    /** The simulated ALOHA: the same format as the real one. */
    ALOHA_SIM,
    /** 2 cameras uint8 (224, 224, 3), joint position float64 (7,), gripper float64 (1,), a prompt. */
    DROID,
    /** 2 cameras uint8 (224, 224, 3), state float64 (8,), a prompt. */
    LIBERO;

    Map<String, Object> random(Random random) {
        Map<String, Object> obs = new LinkedHashMap<>();
        switch (this) {
            case ALOHA, ALOHA_SIM -> {
                obs.put("state", doubles(random, 14));
                Map<String, Object> images = new LinkedHashMap<>();
                for (String cam : new String[] {"cam_high", "cam_low", "cam_left_wrist", "cam_right_wrist"}) {
                    images.put(cam, pixels(random, 3, 224, 224));
                }
                obs.put("images", images);
                obs.put("prompt", "do something");
            }
            case DROID -> {
                obs.put("observation/exterior_image_1_left", pixels(random, 224, 224, 3));
                obs.put("observation/wrist_image_left", pixels(random, 224, 224, 3));
                obs.put("observation/joint_position", doubles(random, 7));
                obs.put("observation/gripper_position", doubles(random, 1));
                obs.put("prompt", "do something");
            }
            case LIBERO -> {
                obs.put("observation/state", doubles(random, 8));
                obs.put("observation/image", pixels(random, 224, 224, 3));
                obs.put("observation/wrist_image", pixels(random, 224, 224, 3));
                obs.put("prompt", "do something");
            }
        }
        return obs;
    }

    static NdArray pixels(Random random, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        byte[] b = new byte[(int) n];
        random.nextBytes(b);
        return NdArray.ofUint8(b, shape);
    }

    static NdArray doubles(Random random, int n) {
        return NdArray.ofFloat64(random.doubles(n).toArray());
    }
}
