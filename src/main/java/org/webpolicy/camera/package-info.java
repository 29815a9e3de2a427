/**
 * Camera sources on OpenCV's {@code VideoCapture} (a device index, a video file, a URL or a
 * GStreamer pipeline): {@link org.webpolicy.camera.Camera Camera} grabs on its own thread and keeps only
 * the newest {@link org.webpolicy.camera.Frame Frame};
 * {@link org.webpolicy.camera.CameraGroup CameraGroup} takes one
 * frame per camera for a step and reports their skew;
 * {@link org.webpolicy.camera.FrameConverter FrameConverter}
 * turns a frame into the array a policy expects (RGB, HWC or CHW, resized with the Pillow-exact
 * {@code resizeWithPad}). Opt-in: only this package needs OpenCV's natives.
 */
package org.webpolicy.camera;
