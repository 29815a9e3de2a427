package org.webpolicy.camera;

/**
 * A camera could not be opened, stopped delivering frames (end of a file, a device that vanished,
 * a stream that returns only empty frames), or gave no new frame in time. The message names the
 * camera, its source and what happened.
 */
public class CameraException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * An exception with a message.
     *
     * @param message what happened, naming the camera and its source
     */
    public CameraException(String message) {
        super(message);
    }

    /**
     * An exception with a message and a cause.
     *
     * @param message what happened, naming the camera and its source
     * @param cause the underlying failure
     */
    public CameraException(String message, Throwable cause) {
        super(message, cause);
    }
}
