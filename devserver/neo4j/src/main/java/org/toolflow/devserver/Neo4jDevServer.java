package org.toolflow.devserver;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.BoltConnectorInternalSettings;
import org.neo4j.configuration.connectors.ConnectorPortRegister;
import org.neo4j.configuration.connectors.ConnectorType;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.internal.helpers.HostnamePort;
import org.neo4j.kernel.internal.GraphDatabaseAPI;

/**
 * Runs the genuine Neo4j Community engine embedded in this JVM and serves Bolt on a loopback address.
 *
 * <p>Options (command-line flag, else environment variable, else default):
 *
 * <ul>
 *   <li>{@code --home DIR} / {@code NEO4J_DEV_DATA}: Neo4j home; data and logs go below it
 *       (default {@code target/data} relative to the working directory).
 *   <li>{@code --port N} / {@code NEO4J_DEV_PORT}: Bolt port (default 7687; 0 picks a free port).
 *   <li>{@code --address A} / {@code NEO4J_DEV_ADDRESS}: listen address (default 127.0.0.1).
 *   <li>{@code --pagecache SIZE} / {@code NEO4J_DEV_PAGECACHE}: page cache (default 512m).
 *   <li>{@code --tx-max SIZE} / {@code NEO4J_DEV_TX_MAX}: max memory of one transaction, 0 = no
 *       limit (default 0; the global limit stays at Neo4j's default, 70% of the heap).
 *   <li>{@code NEO4J_DEV_AUTH=true}: enable authentication, with the user {@code NEO4J_USER}
 *       (default neo4j) and password {@code NEO4J_PASSWORD} (default password). Otherwise auth is
 *       disabled and the server accepts any credentials.
 * </ul>
 *
 * <p>Prints {@code NEO4J READY bolt://ADDRESS:PORT} once the default database is available, and
 * shuts the database down cleanly on SIGTERM/SIGINT.
 */
public final class Neo4jDevServer {
    private static final String READY_PREFIX = "NEO4J READY ";

    private Neo4jDevServer() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = parseArgs(args);
        Path home = Path.of(opt(opts, "home", "NEO4J_DEV_DATA", "target/data")).toAbsolutePath().normalize();
        int port = Integer.parseInt(opt(opts, "port", "NEO4J_DEV_PORT", "7687"));
        String address = opt(opts, "address", "NEO4J_DEV_ADDRESS", "127.0.0.1");
        long pageCache = parseBytes(opt(opts, "pagecache", "NEO4J_DEV_PAGECACHE", "512m"));
        long txMax = parseBytes(opt(opts, "tx-max", "NEO4J_DEV_TX_MAX", "0"));
        boolean auth = Boolean.parseBoolean(opt(opts, "auth", "NEO4J_DEV_AUTH", "false"));
        String user = envOr("NEO4J_USER", "neo4j");
        String password = envOr("NEO4J_PASSWORD", "password");

        Files.createDirectories(home);
        long t0 = System.nanoTime();
        log("starting Neo4j (home " + home + ", bolt " + address + ":" + port + ", auth " + (auth ? "on" : "off") + ")");

        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress(address, port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress(address, port))
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                // Bolt waits the full permitted time for its idle event loops at shutdown (default 5 s, twice);
                // 1 s keeps a stop quick and only logs a harmless "exceeded maximum permitted" warning.
                .setConfig(BoltConnectorInternalSettings.connection_shutdown_wait_time, Duration.ofSeconds(1))
                .setConfig(BoltConnectorInternalSettings.thread_pool_shutdown_wait_time, Duration.ofSeconds(1))
                .setConfig(HttpConnector.enabled, false)
                .setConfig(HttpsConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, auth)
                .setConfig(GraphDatabaseSettings.pagecache_memory, pageCache)
                .setConfig(GraphDatabaseSettings.memory_transaction_max_size, txMax)
                // Dev/test data dirs: no 256 MiB preallocated transaction log per database, few old logs kept.
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                .setConfig(GraphDatabaseSettings.logical_log_rotation_threshold, 64L << 20)
                .setConfig(GraphDatabaseSettings.keep_logical_logs, "2 files")
                .build();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log("shutting down");
            try {
                dbms.shutdown();
            } catch (RuntimeException e) {
                log("shutdown error: " + e);
            }
            stopped.countDown();
            log("NEO4J STOPPED");
        }, "neo4j-devserver-shutdown"));

        GraphDatabaseService db = dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
        if (!db.isAvailable(Duration.ofMinutes(5).toMillis())) {
            log("ERROR: database '" + GraphDatabaseSettings.DEFAULT_DATABASE_NAME + "' did not become available");
            System.exit(2);
        }
        if (auth) {
            setUpAuth(dbms, user, password);
        }

        int boltPort = boundBoltPort(db, port);
        String version = db.executeTransactionally(
                "CALL dbms.components() YIELD versions, edition RETURN versions[0] + ' ' + edition AS v",
                Map.of(),
                r -> r.hasNext() ? String.valueOf(r.next().get("v")) : "unknown");
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        log("Neo4j " + version + " available in " + ms + " ms; logs in " + home.resolve("logs"));
        System.out.println(READY_PREFIX + "bolt://" + address + ":" + boltPort);
        System.out.flush();

        stopped.await();
    }

    /** Sets the password of {@code user} (creating the user when it is not neo4j) via the system database. */
    private static void setUpAuth(DatabaseManagementService dbms, String user, String password) {
        GraphDatabaseService system = dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
        Map<String, Object> params = Map.of("user", user, "password", password);
        if (!"neo4j".equals(user)) {
            system.executeTransactionally(
                    "CREATE USER $user IF NOT EXISTS SET PASSWORD $password CHANGE NOT REQUIRED", params);
        }
        system.executeTransactionally("ALTER USER $user SET PASSWORD $password CHANGE NOT REQUIRED", params);
        log("auth enabled for user '" + user + "'");
    }

    /** The port Bolt actually listens on (differs from the configured one when that was 0). */
    private static int boundBoltPort(GraphDatabaseService db, int configured) {
        try {
            ConnectorPortRegister ports = ((GraphDatabaseAPI) db).getDependencyResolver()
                    .resolveDependency(ConnectorPortRegister.class);
            HostnamePort bound = ports.getLocalAddress(ConnectorType.BOLT);
            if (bound != null && bound.getPort() > 0) {
                return bound.getPort();
            }
        } catch (RuntimeException e) {
            log("could not read the bound Bolt port: " + e);
        }
        if (configured == 0) {
            throw new IllegalStateException("Bolt port 0 requested but the bound port is unknown");
        }
        return configured;
    }

    private static Map<String, String> parseArgs(String[] args) {
        Map<String, String> out = new java.util.HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                System.out.println("usage: Neo4jDevServer [--home DIR] [--port N] [--address A] "
                        + "[--pagecache SIZE] [--tx-max SIZE] [--auth true|false]");
                System.exit(0);
            }
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument: " + a);
            }
            String key = a.substring(2);
            String value;
            int eq = key.indexOf('=');
            if (eq >= 0) {
                value = key.substring(eq + 1);
                key = key.substring(0, eq);
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                throw new IllegalArgumentException("missing value for " + a);
            }
            out.put(key, value);
        }
        return out;
    }

    private static String opt(Map<String, String> opts, String key, String env, String dflt) {
        String v = opts.get(key);
        return v != null ? v : envOr(env, dflt);
    }

    private static String envOr(String name, String dflt) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? dflt : v;
    }

    /** Parses sizes such as 512m, 2g, 1048576. */
    static long parseBytes(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        long mult = 1;
        char last = t.isEmpty() ? ' ' : t.charAt(t.length() - 1);
        switch (last) {
            case 'k' -> mult = 1L << 10;
            case 'm' -> mult = 1L << 20;
            case 'g' -> mult = 1L << 30;
            default -> mult = 1;
        }
        if (mult != 1) {
            t = t.substring(0, t.length() - 1);
        }
        return Long.parseLong(t) * mult;
    }

    private static void log(String msg) {
        System.err.println("[neo4j-devserver] " + msg);
        System.err.flush();
    }
}
