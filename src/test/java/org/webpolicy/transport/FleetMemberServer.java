package org.webpolicy.transport;

import java.util.LinkedHashMap;
import java.util.Map;
import org.webpolicy.policy.Policy;

/**
 * One server of the fleet behind HAProxy in {@link HaproxyFleetTest}, run in a child JVM so that
 * the test can kill it outright. Answers each step with the observation's robot and step and its
 * own name; prints its port; serves until its standard input closes or it is killed.
 */
public final class FleetMemberServer {

    private FleetMemberServer() {
    }

    /**
     * Runs the server.
     *
     * @param args the server's name
     * @throws Exception when the server cannot start
     */
    public static void main(String[] args) throws Exception {
        String name = args[0];
        Policy policy = new Policy() {
            @Override
            public Map<String, Object> step(Map<String, Object> observation) {
                Map<String, Object> action = new LinkedHashMap<>();
                action.put("robot", observation.get("robot"));
                action.put("step", observation.get("step"));
                action.put("server", name);
                return action;
            }

            @Override
            public boolean isThreadSafe() {
                return true;
            }
        };
        PolicyServer server = PolicyServer.builder(policy).host("127.0.0.1").port(0).build().start();
        System.out.println("PORT " + server.port());
        System.out.flush();
        while (System.in.read() >= 0) {
            // serve until the parent closes our input
        }
        server.close();
    }
}
