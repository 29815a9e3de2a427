package org.webpolicy.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.webpolicy.record.RecordedExchange;

/** A latency-over-time PNG drawn with Java2D: one dot per exchange, p50 and p99 per time window as lines. */
final class LatencyPlot {

    private static final int WIDTH = 1000;
    private static final int HEIGHT = 480;
    private static final int LEFT = 70;
    private static final int RIGHT = 20;
    private static final int TOP = 40;
    private static final int BOTTOM = 50;
    private static final int WINDOWS = 40;

    private LatencyPlot() {
    }

    static void write(List<RecordedExchange> exchanges, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<RecordedExchange> ok = exchanges.stream().filter(x -> x.failure() == null).toList();
        BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, WIDTH, HEIGHT);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        g.drawString("Exchange latency (ms) over time (s): " + ok.size() + " exchanges; dots, p50 (blue), p99 (red)", LEFT, 22);
        int plotW = WIDTH - LEFT - RIGHT;
        int plotH = HEIGHT - TOP - BOTTOM;
        g.drawRect(LEFT, TOP, plotW, plotH);
        if (ok.isEmpty()) {
            g.drawString("no answered exchange", LEFT + 20, TOP + 30);
            g.dispose();
            ImageIO.write(image, "png", png.toFile());
            return;
        }
        long start = ok.stream().mapToLong(RecordedExchange::requestTimeNs).min().orElse(0);
        long end = ok.stream().mapToLong(RecordedExchange::requestTimeNs).max().orElse(0);
        double spanS = Math.max(1e-3, (end - start) / 1e9);
        double[] all = ok.stream().mapToDouble(RecordedExchange::latencyMs).sorted().toArray();
        double maxMs = Math.max(1e-3, InspectCommand.at(all, 0.999) * 1.1);
        // Axes: 5 ticks each way.
        for (int i = 0; i <= 5; i++) {
            int y = TOP + plotH - plotH * i / 5;
            int x = LEFT + plotW * i / 5;
            g.setColor(new Color(230, 230, 230));
            g.drawLine(LEFT + 1, y, LEFT + plotW - 1, y);
            g.setColor(Color.BLACK);
            g.drawString(String.format(Locale.ROOT, "%.2f", maxMs * i / 5), 8, y + 5);
            g.drawString(String.format(Locale.ROOT, "%.1f", spanS * i / 5), x - 10, TOP + plotH + 18);
        }
        g.drawString("time since the first request (s)", LEFT + plotW / 2 - 90, HEIGHT - 10);
        g.setColor(new Color(60, 60, 60, 120));
        for (RecordedExchange x : ok) {
            int px = LEFT + (int) (plotW * ((x.requestTimeNs() - start) / 1e9) / spanS);
            int py = TOP + plotH - (int) (plotH * Math.min(1.0, x.latencyMs() / maxMs));
            g.fillOval(px - 1, py - 1, 3, 3);
        }
        g.setStroke(new BasicStroke(2f));
        int[] prev50 = null;
        int[] prev99 = null;
        for (int w = 0; w < WINDOWS; w++) {
            long from = start + (long) ((end - start) * (double) w / WINDOWS);
            long to = start + (long) ((end - start) * (double) (w + 1) / WINDOWS);
            boolean last = w == WINDOWS - 1;
            double[] in = ok.stream().filter(x -> x.requestTimeNs() >= from && (x.requestTimeNs() < to || last))
                    .mapToDouble(RecordedExchange::latencyMs).toArray();
            if (in.length == 0) {
                continue;
            }
            Arrays.sort(in);
            int px = LEFT + plotW * (2 * w + 1) / (2 * WINDOWS);
            int y50 = TOP + plotH - (int) (plotH * Math.min(1.0, InspectCommand.at(in, 0.5) / maxMs));
            int y99 = TOP + plotH - (int) (plotH * Math.min(1.0, InspectCommand.at(in, 0.99) / maxMs));
            if (prev50 != null) {
                g.setColor(Color.BLUE);
                g.drawLine(prev50[0], prev50[1], px, y50);
                g.setColor(Color.RED);
                g.drawLine(prev99[0], prev99[1], px, y99);
            }
            prev50 = new int[] {px, y50};
            prev99 = new int[] {px, y99};
        }
        g.dispose();
        ImageIO.write(image, "png", png.toFile());
    }
}
