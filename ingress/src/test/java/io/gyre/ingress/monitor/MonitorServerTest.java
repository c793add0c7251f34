package io.gyre.ingress.monitor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.TaskRequest;
import io.gyre.ingress.client.ClientConfig;
import io.gyre.ingress.client.GyreClient;
import io.gyre.ingress.server.GyreServer;
import io.gyre.ingress.server.ServerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The monitoring endpoint over real HTTP on loopback: metrics in a format {@code promtool} accepts, liveness,
 * readiness (and its flip when the engine closes), task status by key, and clear errors for everything else.
 */
class MonitorServerTest
{
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private Engine engine;
    private GyreServer server;
    private MonitorServer monitor;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start()
    {
        engine = Engine.open(EngineConfig.builder(dir.resolve("journal")).build());
        server = GyreServer.start(engine, ServerConfig.builder().port(0).build());
        monitor = MonitorServer.start("127.0.0.1", 0, engine, server);
    }

    @AfterEach
    void stop()
    {
        monitor.close();
        server.close();
        engine.close();
    }

    private HttpResponse<String> get(final String path) throws Exception
    {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + monitor.address().getPort() + path)).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void shouldExposeMetricsThatPromtoolAccepts() throws Exception
    {
        engine.submit(new TaskRequest().key("m1").type("echo").payload("x")).get(10, TimeUnit.SECONDS);
        engine.submit(new TaskRequest().key("m3").type("echo").payload("x").tenant("acme")).get(10, TimeUnit.SECONDS);
        try (GyreClient client = GyreClient.connect(ClientConfig.builder().port(server.address().getPort()).build()))
        {
            client.submit(io.gyre.ingress.client.Submission.of("m2", "noop")).get(10, TimeUnit.SECONDS);
            final HttpResponse<String> response = get("/metrics");
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));
            assertThat(response.body())
                .contains("# TYPE gyre_live_tasks gauge")
                .contains("gyre_ring_capacity 4096")
                .containsPattern("gyre_tcp_connections 1(\\.0)?\\n")
                // the client's HELLO and its SUBMIT: every frame received, the handshake's too
                .containsPattern("gyre_tcp_frames_total 2(\\.0)?\\n")
                .contains("# HELP gyre_tcp_frames_total Frames received: each connection's HELLO and every request after it.")
                .contains("gyre_stage_failures_total 0")
                .contains("gyre_submissions_total{result=\"accepted\",tenant=\"\",type=\"echo\"} 1")
                .contains("gyre_submissions_total{result=\"accepted\",tenant=\"acme\",type=\"echo\"} 1")
                .contains("gyre_submissions_total{result=\"accepted\",tenant=\"\",type=\"noop\"} 1")
                .contains("gyre_tasks_finished_total{state=\"succeeded\",tenant=\"\",type=\"echo\"} 1")
                .contains("gyre_tasks_finished_total{state=\"succeeded\",tenant=\"acme\",type=\"echo\"} 1")
                .doesNotContain("gyre_tasks_finished_total{state=\"succeeded\",tenant=\"acme\",type=\"noop\"}")
                .containsPattern("gyre_accounted_execution_seconds_total\\{tenant=\"acme\",type=\"echo\"} [0-9.E-]+\\n")
                .containsPattern("gyre_accounted_queue_seconds_total\\{tenant=\"acme\",type=\"echo\"} [0-9.E-]+\\n")
                .contains("gyre_task_end_to_end_seconds_count{type=\"echo\"} 2")
                .contains("gyre_tasks_waiting{pool=\"blocking\"} 0")
                .contains("gyre_attempts_running{pool=\"blocking\"} 0")
                .contains("gyre_attempts_abandoned{pool=\"blocking\"} 0")
                .contains("gyre_attempts_abandoned{pool=\"cpu\"} 0")
                .contains("gyre_attempts_queued{pool=\"blocking\"} 0")
                .contains("gyre_attempts_queued{pool=\"cpu\"} 0")
                .contains("# TYPE gyre_timers_pending gauge")
                .contains("gyre_retained_outcomes 3")
                .contains("gyre_journal_lag 0")
                .containsPattern("gyre_journal_bytes [1-9]")
                .containsPattern("gyre_journal_files [1-9]")
                .contains("gyre_dead_letters 0")
                .contains("gyre_event_subscriptions 0")
                .contains("gyre_events_queued_bytes 0")
                .contains("gyre_events_lost_in_feed_total 0")
                .contains("gyre_tcp_subscriptions 0")
                .contains("gyre_tcp_events_sent_total 0")
                .contains("# TYPE gyre_journal_append_seconds summary");

            final io.gyre.engine.EventSubscription subscription = engine.subscribe(io.gyre.engine.EventFilter.all(), event -> { });
            try
            {
                assertThat(get("/metrics").body()).contains("gyre_event_subscriptions 1");
            }
            finally
            {
                subscription.close();
            }

            final Path promtool = Path.of("/usr/bin/promtool");
            assumeTrue(Files.isExecutable(promtool), "promtool is not installed (.ci/run installs it: apt-get install prometheus)");
            final Process check = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectErrorStream(true).start();
            try (OutputStream in = check.getOutputStream())
            {
                in.write(response.body().getBytes(StandardCharsets.UTF_8));
            }
            final String verdict = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(check.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(check.exitValue()).as(verdict).isZero();
        }
    }

    @Test
    void shouldSayLiveAndReadyAndFlipReadyWhenTheEngineCloses() throws Exception
    {
        assertThat(get("/health/live").statusCode()).isEqualTo(200);
        final HttpResponse<String> ready = get("/health/ready");
        assertThat(ready.statusCode()).isEqualTo(200);
        final JsonNode body = JSON.readTree(ready.body());
        assertThat(body.get("ready").asBoolean()).isTrue();
        assertThat(body.get("checks").get("ring").asText()).startsWith("ok");

        engine.close();
        final HttpResponse<String> closing = get("/health/ready");
        assertThat(closing.statusCode()).isEqualTo(503);
        assertThat(JSON.readTree(closing.body()).get("checks").get("accepting").asText()).contains("closing");
        assertThat(get("/health/live").statusCode()).isEqualTo(200);
        assertThat(get("/tasks/anything").statusCode()).isEqualTo(503);
    }

    @Test
    void shouldFlipReadyWhileTheJournalCannotBeWritten() throws Exception
    {
        final io.gyre.engine.JournalFaults faults = io.gyre.engine.JournalFaults.install(engine);
        faults.fail("injected: no space left on device");
        assertThat(engine.submit(new TaskRequest().key("refused").type("echo")).get(10, TimeUnit.SECONDS).rejected()).isTrue();
        final HttpResponse<String> down = get("/health/ready");
        assertThat(down.statusCode()).isEqualTo(503);
        assertThat(JSON.readTree(down.body()).get("checks").get("journal").asText()).startsWith("no:").contains("no space left");
        assertThat(get("/health/live").statusCode()).isEqualTo(200);

        faults.heal();
        org.awaitility.Awaitility.await().until(() -> engine.health().ready());
        assertThat(get("/health/ready").statusCode()).isEqualTo(200);
        assertThat(get("/metrics").body()).contains("gyre_submissions_total{result=\"rejected_journal_unavailable\",tenant=\"\",type=\"echo\"} 1");
    }

    @Test
    void shouldAnswerATasksStatusByKey() throws Exception
    {
        engine.submit(new TaskRequest().key("order 7/a").type("echo").payload("{\"x\":1}")).get(10, TimeUnit.SECONDS);
        final HttpResponse<String> found = get("/tasks/order%207%2Fa");
        assertThat(found.statusCode()).as(found.body()).isEqualTo(200);
        final JsonNode task = JSON.readTree(found.body());
        assertThat(task.get("key").asText()).isEqualTo("order 7/a");
        assertThat(task.get("state").asText()).isEqualTo("SUCCEEDED");
        assertThat(task.get("outcome").get("output").asText()).isEqualTo("{\"x\":1}");

        // percent signs in a key: decoded once, so %2541 is the key "%41", and "100%" (sent as 100%25) is found
        engine.submit(new TaskRequest().key("pct%41").type("echo").payload("{}")).get(10, TimeUnit.SECONDS);
        engine.submit(new TaskRequest().key("100%").type("echo").payload("{}")).get(10, TimeUnit.SECONDS);
        assertThat(JSON.readTree(get("/tasks/pct%2541").body()).get("key").asText()).isEqualTo("pct%41");
        assertThat(JSON.readTree(get("/tasks/100%25").body()).get("key").asText()).isEqualTo("100%");
        // a path no client library would send (a bare '%'): a 400 naming it, over a raw socket
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", monitor.address().getPort()))
        {
            socket.getOutputStream().write("GET /tasks/100% HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            final String answer = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertThat(answer).startsWith("HTTP/1.1 400").contains("malformed request path /tasks/100%");
        }

        // a success with an empty output has it, as "" (as gyre status prints it): not left out as if there were none
        engine.submit(new TaskRequest().key("empty").type("noop")).get(10, TimeUnit.SECONDS);
        final JsonNode empty = JSON.readTree(get("/tasks/empty").body()).get("outcome");
        assertThat(empty.get("state").asText()).isEqualTo("SUCCEEDED");
        assertThat(empty.has("output")).as(empty.toString()).isTrue();
        assertThat(empty.get("output").isTextual()).isTrue();
        assertThat(empty.get("output").asText()).isEmpty();
        assertThat(empty.has("outputBase64")).isFalse();
        // a failure has its error and no output
        engine.submit(new TaskRequest().key("failed").type("set").payload("not json").maxAttempts(1).deadLetter(false))
            .get(10, TimeUnit.SECONDS);
        final JsonNode failed = JSON.readTree(get("/tasks/failed").body()).get("outcome");
        assertThat(failed.get("state").asText()).isEqualTo("FAILED");
        assertThat(failed.get("error").asText()).contains("not JSON");
        assertThat(failed.has("output")).as(failed.toString()).isFalse();

        // an output that is not UTF-8 comes as base64, whole
        engine.submit(new TaskRequest().key("bin").type("echo").payload(new byte[] {(byte)0xFF, 0, (byte)0xFE})).get(10, TimeUnit.SECONDS);
        final JsonNode binary = JSON.readTree(get("/tasks/bin").body()).get("outcome");
        assertThat(binary.has("output")).isFalse();
        assertThat(binary.get("outputBase64").asText()).isEqualTo("/wD+");

        final HttpResponse<String> missing = get("/tasks/nobody");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(missing.body()).get("error").asText()).contains("no task with key nobody");

        final HttpResponse<String> tooLong = get("/tasks/" + "k".repeat(300));
        assertThat(tooLong.statusCode()).isEqualTo(400);
        assertThat(tooLong.body()).contains("key");
    }

    @Test
    void shouldRefuseOtherPathsMethodsAndMalformedRequestsClearly() throws Exception
    {
        final HttpResponse<String> unknown = get("/nope");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.body()).contains("/metrics");

        final HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + monitor.address().getPort() + "/metrics"))
            .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("allow")).hasValue("GET");

        // garbage instead of HTTP: answered 400 and closed, and the endpoint keeps serving
        try (Socket socket = new Socket("127.0.0.1", monitor.address().getPort()))
        {
            final OutputStream out = socket.getOutputStream();
            out.write(("\u0000\u0001 not http at all " + "x".repeat(10_000) + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            final InputStream in = socket.getInputStream();
            socket.setSoTimeout(10_000);
            final String answer = new String(readSome(in), StandardCharsets.ISO_8859_1);
            assertThat(answer).startsWith("HTTP/1.1 400");
        }
        assertThat(get("/health/live").statusCode()).isEqualTo(200);
        for (final String path : List.of("/metrics", "/health/ready"))
        {
            assertThat(get(path).statusCode()).isEqualTo(200);
        }
    }

    private static byte[] readSome(final InputStream in) throws IOException
    {
        final byte[] buffer = new byte[4096];
        final int n = in.read(buffer);
        return n <= 0 ? new byte[0] : java.util.Arrays.copyOf(buffer, n);
    }

    @Test
    void shouldBeLiveAndNotReadyWhileTheEngineRecoversThenReadyOnceAttached() throws Exception
    {
        final MonitorServer attached = monitor;
        monitor = MonitorServer.startRecovering("127.0.0.1", 0);
        try
        {
            assertThat(get("/health/live").statusCode()).isEqualTo(200);
            final HttpResponse<String> recovering = get("/health/ready");
            assertThat(recovering.statusCode()).isEqualTo(503);
            assertThat(JSON.readTree(recovering.body()).get("checks").get("recovery").asText()).startsWith("no: recovering the journal");
            assertThat(get("/metrics").body()).contains("gyre_recovering 1");
            assertThat(get("/tasks/anything").statusCode()).isEqualTo(503);

            monitor.attach(engine, server);
            final HttpResponse<String> ready = get("/health/ready");
            assertThat(ready.statusCode()).isEqualTo(200);
            assertThat(JSON.readTree(ready.body()).get("checks").get("recovery").asText()).startsWith("ok:");
            assertThat(get("/metrics").body()).contains("gyre_recovering 0").contains("gyre_live_tasks");
            assertThat(get("/tasks/anything").statusCode()).isEqualTo(404);
        }
        finally
        {
            monitor.close();
            monitor = attached;
        }
    }

    @Test
    void shouldExposeHandlersGaugesAndLeaveOutTheOnesThatCannotBe() throws Exception
    {
        final io.gyre.engine.TaskHandler gauged = new io.gyre.engine.TaskHandler()
        {
            @Override
            public String type()
            {
                return "gauged";
            }

            @Override
            public void execute(final io.gyre.engine.TaskContext context)
            {
                context.succeed(new byte[0]);
            }

            @Override
            public void gauges(final io.gyre.engine.GaugeSink sink)
            {
                sink.gauge("gauged_queue_depth", "Requests waiting in the gauged service.", 7, "service", "a");
                sink.gauge("gauged_queue_depth", "Requests waiting in the gauged service.", 2, "service", "b");
                sink.gauge("gyre_live_tasks", "Taken by the engine.", 99);
                sink.gauge("not a name", "Invalid.", 1);
                sink.gauge("9starts_with_digit", "Invalid.", 3);
                sink.gauge("bad name!", "Invalid.", 4);
                sink.gauge("bad name!", "Invalid, a second series.", 4, "service", "a");
                sink.gauge("", "Invalid.", 5);
                sink.gauge("gauged_labelled", "A series with a bad label name is left out, not its gauge.", 6, "bad label", "v");
                sink.gauge("gauged_labelled", "Reserved.", 7, "__name__", "v");
                sink.gauge("gauged_labelled", "Fine.", 8, "service", "a");
                sink.gauge("gauged:after_the_bad_ones", "Still exported.", 9);
            }
        };
        final ch.qos.logback.classic.Logger metricsLog = (ch.qos.logback.classic.Logger)org.slf4j.LoggerFactory.getLogger(GyreMetrics.class);
        final ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> warnings = new ch.qos.logback.core.read.ListAppender<>();
        warnings.start();
        metricsLog.addAppender(warnings);
        try (Engine own = Engine.open(EngineConfig.builder(dir.resolve("gauged")).handler(gauged).build());
             MonitorServer ownMonitor = MonitorServer.start("127.0.0.1", 0, own, null))
        {
            final HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + ownMonitor.address().getPort() + "/metrics")).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body())
                .contains("gauged_queue_depth{service=\"a\"} 7")
                .contains("gauged_queue_depth{service=\"b\"} 2")
                .contains("gyre_live_tasks 0")
                .doesNotContain("gyre_live_tasks 99")
                .doesNotContain("not a name")
                .contains("gauged_labelled{service=\"a\"} 8")
                .contains("gauged:after_the_bad_ones 9");
            // left out, not renamed: Prometheus's escaping would have exported them under names no one chose
            assertThat(response.body().lines().filter(l -> !l.startsWith("#")))
                .noneMatch(l -> l.startsWith("not_a_name") || l.startsWith("_starts_with_digit") || l.startsWith("bad_name_"))
                .noneMatch(l -> l.contains("bad_label") || l.contains("__name__"))
                .filteredOn(l -> l.startsWith("gauged_labelled")).containsExactly("gauged_labelled{service=\"a\"} 8.0");
            // one WARN each, naming the task type and the name
            final List<String> lines;
            synchronized (warnings)
            {
                lines = warnings.list.stream().filter(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
                    .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage).toList();
            }
            assertThat(lines).containsExactlyInAnyOrder(
                "task type gauged: gauge \"gyre_live_tasks\" left out: the name is taken",
                "task type gauged: gauge \"not a name\" left out: not a Prometheus metric name: [a-zA-Z_:][a-zA-Z0-9_:]*",
                "task type gauged: gauge \"9starts_with_digit\" left out: not a Prometheus metric name: [a-zA-Z_:][a-zA-Z0-9_:]*",
                "task type gauged: gauge \"bad name!\" left out: not a Prometheus metric name: [a-zA-Z_:][a-zA-Z0-9_:]*",
                "task type gauged: gauge \"\" left out: not a Prometheus metric name: [a-zA-Z_:][a-zA-Z0-9_:]*",
                "task type gauged: gauge \"gauged_labelled\": a series left out: label \"bad label\" is not a Prometheus label name: "
                    + "[a-zA-Z_][a-zA-Z0-9_]*, not starting with __ (reserved)",
                "task type gauged: gauge \"gauged_labelled\": a series left out: label \"__name__\" is not a Prometheus label name: "
                    + "[a-zA-Z_][a-zA-Z0-9_]*, not starting with __ (reserved)");
            // said once: a second scrape exports the same and repeats none of it as a WARN
            final HttpResponse<String> again = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + ownMonitor.address().getPort() + "/metrics")).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertThat(again.body()).contains("gauged_labelled{service=\"a\"} 8").contains("gauged:after_the_bad_ones 9");
            synchronized (warnings)
            {
                assertThat(warnings.list.stream().filter(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)).hasSize(lines.size());
            }
        }
        finally
        {
            metricsLog.detachAppender(warnings);
        }
    }
}
