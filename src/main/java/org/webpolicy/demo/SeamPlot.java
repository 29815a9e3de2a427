package org.webpolicy.demo;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * Draws joint 0 around a chunk switch for each mode of a {@link ChunkingBench} run, one panel
 * per mode: the reference (grey), the commanded position (blue, one step per tick), the plant
 * (black), and the switches (red lines). Java2D only; written as a PNG.
 */
final class SeamPlot {

    private static final int WIDTH = 760;
    private static final int PANEL = 190;
    private static final int LEFT = 60;
    private static final int RIGHT = 12;
    private static final int TOP = 24;
    private static final int BOTTOM = 24;

    private SeamPlot() {
    }

    static void write(List<ChunkingBench.Result> results, double hz, Path file) throws IOException {
        BufferedImage image = new BufferedImage(WIDTH, PANEL * results.size(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, image.getWidth(), image.getHeight());
        for (int p = 0; p < results.size(); p++) {
            panel(g, results.get(p), hz, p * PANEL);
        }
        g.dispose();
        ImageIO.write(image, "png", file.toFile());
    }

    private static void panel(Graphics2D g, ChunkingBench.Result r, double hz, int y0) {
        int n = r.position().length;
        // The switch with the largest joint-0 jump in the run's second half: each mode's worst case.
        int seam = n / 2;
        double worst = -1;
        for (int s : r.seamSlots()) {
            if (s >= n / 2 && s > 0 && Math.abs(r.command()[s] - r.command()[s - 1]) > worst) {
                worst = Math.abs(r.command()[s] - r.command()[s - 1]);
                seam = s;
            }
        }
        int from = Math.max(0, seam - (int) (0.5 * hz));
        int to = Math.min(n - 1, seam + (int) (1.0 * hz));
        double lo = Double.MAX_VALUE;
        double hi = -Double.MAX_VALUE;
        for (int s = from; s <= to; s++) {
            for (double v : new double[] {r.position()[s], r.command()[s], r.reference()[s]}) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        double pad = Math.max(1e-3, (hi - lo) * 0.08);
        lo -= pad;
        hi += pad;
        int plotW = WIDTH - LEFT - RIGHT;
        int plotH = PANEL - TOP - BOTTOM;
        Axis ax = new Axis(from, to, lo, hi, LEFT, y0 + TOP, plotW, plotH);
        g.setColor(new Color(0xF4F4F4));
        g.fillRect(LEFT, y0 + TOP, plotW, plotH);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.setColor(Color.BLACK);
        g.drawString(String.format(Locale.ROOT, "%s, %d ms inference", r.mode().label,
                r.inferenceMs()), LEFT, y0 + 16);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
        for (int s = from; s <= to; s += (int) (0.25 * hz)) {
            g.setColor(Color.GRAY);
            g.drawString(String.format(Locale.ROOT, "%.2f s", s / hz), ax.x(s) - 12, y0 + PANEL - 8);
        }
        g.drawString(String.format(Locale.ROOT, "%.3f", hi), 4, y0 + TOP + 10);
        g.drawString(String.format(Locale.ROOT, "%.3f", lo), 4, y0 + TOP + plotH);
        g.setColor(new Color(0xD03030));
        for (int s : r.seamSlots()) {
            if (s >= from && s <= to) {
                g.drawLine(ax.x(s), y0 + TOP, ax.x(s), y0 + TOP + plotH);
            }
        }
        g.setStroke(new BasicStroke(2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND, 1f, new float[] {5f, 4f}, 0f));
        g.setColor(new Color(0x999999));
        g.draw(line(r.reference(), from, to, ax, false));
        g.setStroke(new BasicStroke(1.3f));
        g.setColor(new Color(0x2060D0));
        g.draw(line(r.command(), from, to, ax, true));
        g.setStroke(new BasicStroke(1.8f));
        g.setColor(Color.BLACK);
        g.draw(line(r.position(), from, to, ax, false));
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
        int lx = LEFT + plotW - 250;
        legend(g, lx, y0 + 16, new Color(0x999999), "reference");
        legend(g, lx + 70, y0 + 16, new Color(0x2060D0), "command");
        legend(g, lx + 140, y0 + 16, Color.BLACK, "plant");
        legend(g, lx + 195, y0 + 16, new Color(0xD03030), "switch");
    }

    private static void legend(Graphics2D g, int x, int y, Color c, String text) {
        g.setColor(c);
        g.fillRect(x, y - 7, 10, 4);
        g.setColor(Color.DARK_GRAY);
        g.drawString(text, x + 13, y - 2);
    }

    private static Path2D line(double[] values, int from, int to, Axis ax, boolean steps) {
        Path2D path = new Path2D.Double();
        path.moveTo(ax.x(from), ax.y(values[from]));
        for (int s = from + 1; s <= to; s++) {
            if (steps) {
                path.lineTo(ax.x(s), ax.y(values[s - 1]));
            }
            path.lineTo(ax.x(s), ax.y(values[s]));
        }
        return path;
    }

    private record Axis(int from, int to, double lo, double hi, int left, int top, int width, int height) {
        int x(double slot) {
            return left + (int) Math.round((slot - from) / Math.max(1, to - from) * width);
        }

        int y(double v) {
            return top + (int) Math.round((hi - v) / (hi - lo) * height);
        }
    }
}
