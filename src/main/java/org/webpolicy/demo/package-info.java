/**
 * A simulated ALOHA robot driven end to end (cameras resized, sent over WebSocket, chunks
 * brokered, a 50 Hz control loop): {@link org.webpolicy.demo.AlohaDemo}, its environment and its
 * policy. Part of the command-line artifact ({@code webpolicy demo}, the main job), not of the
 * library jar.
 */
package org.webpolicy.demo;
