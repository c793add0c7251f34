package io.gyre.ingress;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.TaskState;
import io.gyre.ingress.client.ClientConfig;
import io.gyre.ingress.client.GyreClient;
import io.gyre.ingress.client.Submission;
import io.gyre.ingress.client.TaskResult;
import io.gyre.ingress.server.GyreServer;
import io.gyre.ingress.server.ServerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every task type of the tasks module, found on the class path by the engine (nothing registered by
 * name), submitted over TCP by the Java client.
 */
class TaskTypesOverTcpTest
{
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private HttpServer http;
    private Engine engine;
    private GyreServer server;
    private GyreClient client;
    private final AtomicInteger calls = new AtomicInteger();

    @BeforeEach
    void start() throws Exception
    {
        http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        http.createContext("/hello", exchange ->
        {
            calls.incrementAndGet();
            final byte[] body = ("{\"method\":\"" + exchange.getRequestMethod() + "\",\"got\":" +
                new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8) + "}").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        http.createContext("/missing", exchange ->
        {
            calls.incrementAndGet();
            exchange.sendResponseHeaders(404, -1);
            exchange.close();
        });
        http.start();
        engine = Engine.open(EngineConfig.builder(dir).build());
        server = GyreServer.start(engine, ServerConfig.builder().port(0).build());
        client = GyreClient.connect(ClientConfig.builder().address(server.address()).build());
    }

    @AfterEach
    void stop()
    {
        client.close();
        server.close();
        engine.close();
        http.stop(0);
    }

    private TaskResult submit(final String key, final String type, final String payload)
    {
        return client.blocking().submit(Submission.of(key, type).payload(payload));
    }

    private static JsonNode json(final TaskResult result) throws Exception
    {
        return JSON.readTree(result.outputAsString());
    }

    @Test
    void wait_() throws Exception
    {
        final TaskResult result = submit("w", "wait", "PT0.3S");
        assertThat(result.succeeded()).isTrue();
        assertThat(result.finishedAt() - result.submittedAt()).isEqualTo(300_000_000L);
        assertThat(json(result).get("until").asText()).isEqualTo(Instant.ofEpochSecond(0, result.finishedAt()).toString());
    }

    @Test
    void set() throws Exception
    {
        final TaskResult result = submit("s", "set", "{\"input\":{\"order\":{\"id\":7}},\"values\":{\"/order/status\":\"paid\"}}");
        assertThat(result.succeeded()).isTrue();
        assertThat(result.outputAsString()).isEqualTo("{\"order\":{\"id\":7,\"status\":\"paid\"}}");
    }

    @Test
    void inject() throws Exception
    {
        final TaskResult result = submit("i", "inject",
            "{\"input\":{\"user\":{\"name\":\"Ada\"}},\"template\":{\"to\":null},\"refs\":{\"/to\":\"/user/name\"}}");
        assertThat(result.succeeded()).isTrue();
        assertThat(result.outputAsString()).isEqualTo("{\"to\":\"Ada\"}");
    }

    @Test
    void transform() throws Exception
    {
        final TaskResult result = submit("t", "transform",
            "{\"input\":{\"a\":1,\"b\":2},\"ops\":[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/c\"},{\"op\":\"remove\",\"path\":\"/b\"}]}");
        assertThat(result.succeeded()).isTrue();
        assertThat(result.outputAsString()).isEqualTo("{\"c\":1}");
    }

    @Test
    void transformRefusesAPointerThatMatchesNothing()
    {
        final TaskResult result = submit("tx", "transform", "{\"input\":{},\"ops\":[{\"op\":\"copy\",\"from\":\"/nope\",\"path\":\"/x\"}]}");
        assertThat(result.state()).isEqualTo(TaskState.DEAD_LETTERED);
        assertThat(result.attempts()).isEqualTo(1);
        assertThat(result.error()).startsWith("invalid input: ops[0]").contains("/nope");
    }

    @Test
    void http() throws Exception
    {
        final String url = "http://127.0.0.1:" + http.getAddress().getPort();
        final TaskResult ok = submit("h", "http", "{\"method\":\"POST\",\"url\":\"" + url + "/hello\",\"body\":{\"x\":1}}");
        assertThat(ok.succeeded()).as("%s", ok).isTrue();
        final JsonNode out = json(ok);
        assertThat(out.get("status").asInt()).isEqualTo(200);
        assertThat(out.get("body").get("method").asText()).isEqualTo("POST");
        assertThat(out.get("body").get("got").get("x").asInt()).isEqualTo(1);

        final TaskResult missing = submit("h404", "http", "{\"method\":\"GET\",\"url\":\"" + url + "/missing\"}");
        assertThat(missing.state()).isEqualTo(TaskState.DEAD_LETTERED);
        assertThat(missing.attempts()).isEqualTo(1);
        assertThat(calls.get()).isEqualTo(2);
    }

    @Test
    void httpRefusesAHostOutsideTheAllowlist()
    {
        final TaskResult refused = submit("far", "http", "{\"method\":\"GET\",\"url\":\"http://example.com/\"}");
        assertThat(refused.state()).isEqualTo(TaskState.DEAD_LETTERED);
        assertThat(refused.attempts()).isEqualTo(1);
        assertThat(refused.error()).contains("example.com");
    }
}
