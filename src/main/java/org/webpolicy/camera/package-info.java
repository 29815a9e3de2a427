/**
 * Camera sources on OpenCV's {@code VideoCapture} (a device index, a video file, a URL or a
 * GStreamer pipeline): {@link org.webpolicy.camera.Camera} grabs on its own thread and keeps only
 * the newest {@link org.webpolicy.camera.Frame}; {@link org.webpolicy.camera.CameraGroup} takes one
 * frame per camera for a step and reports their skew; {@link org.webpolicy.camera.FrameConverter}
 * turns a frame into the array a policy expects (RGB, HWC or CHW, resized with the Pillow-exact
 * {@code resizeWithPad}). Opt-in: only this package needs OpenCV's natives.
 */
package org.webpolicy.camera;
