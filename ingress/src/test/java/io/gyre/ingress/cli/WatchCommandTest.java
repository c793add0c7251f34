package io.gyre.ingress.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gyre.ingress.cli.ServeAndClientCommandsTest.Run;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.gyre.ingress.cli.ServeAndClientCommandsTest.gyre;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code gyre watch} against {@code gyre serve} in-process, as a user runs them: the events of its filter,
 * live, one line each (text or JSON), until {@code --count} events, an interrupt, or the server going away;
 * refusals and usage errors.
 */
class WatchCommandTest
{
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A transform whose pointer matches nothing: it fails permanently, every time. */
    private static final String BAD_TRANSFORM = "{\"input\":{},\"ops\":[{\"op\":\"copy\",\"from\":\"/nope\",\"path\":\"/x\"}]}";

    @TempDir
    Path dir;

    private ServeCommand server;
    private String port;
    private final List<Thread> watchers = new ArrayList<>();

    @BeforeEach
    void serve() throws Exception
    {
        final CommandLine commandLine = new CommandLine(new GyreCommand());
        commandLine.setOut(new PrintWriter(new StringWriter(), true));
        commandLine.setErr(new PrintWriter(new StringWriter(), true));
        server = commandLine.getSubcommands().get("serve").getCommand();
        final CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() ->
            GyreCommand.execute(commandLine, "serve", "--journal", dir.resolve("data").toString(), "--port", "0", "--monitor-port", "-1"));
        final CompletableFuture<java.net.InetSocketAddress> address = CompletableFuture.supplyAsync(() ->
        {
            try
            {
                return server.awaitListening();
            }
            catch (final InterruptedException ex)
            {
                throw new IllegalStateException(ex);
            }
        });
        CompletableFuture.anyOf(address, exit).get(60, TimeUnit.SECONDS);
        assertThat(address).as("gyre serve listening (it exited with %s)", exit.getNow(null)).isCompleted();
        port = Integer.toString(address.join().getPort());
    }

    @AfterEach
    void stop() throws Exception
    {
        for (final Thread watcher : watchers)
        {
            watcher.interrupt();
            watcher.join(10_000);
        }
        server.shutdown();
    }

    /** {@code gyre watch} running on a thread of its own, once it says it is watching. */
    private record Watching(Thread thread, CompletableFuture<Integer> exit, StringWriter out, StringWriter err)
    {
        List<String> lines()
        {
            return out.toString().lines().toList();
        }
    }

    private Watching watch(final String... args)
    {
        final List<String> full = new ArrayList<>(List.of("watch", "--port", port));
        full.addAll(List.of(args));
        final CommandLine commandLine = new CommandLine(new GyreCommand());
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        final CompletableFuture<Integer> exit = new CompletableFuture<>();
        final Thread thread = new Thread(() -> exit.complete(GyreCommand.execute(commandLine, full.toArray(String[]::new))), "gyre-watch");
        thread.start();
        watchers.add(thread);
        await().atMost(30, TimeUnit.SECONDS).until(() -> err.toString().contains("watching") || exit.isDone());
        assertThat(exit).as(err.toString()).isNotDone();
        return new Watching(thread, exit, out, err);
    }

    private Run submit(final String... args)
    {
        final List<String> full = new ArrayList<>(List.of("submit", "--port", port));
        full.addAll(List.of(args));
        return gyre(full.toArray(String[]::new));
    }

    @Test
    void printsTheEventsOfItsFilterAsJsonUntilCount() throws Exception
    {
        final Watching watching = watch("--type", "echo", "--key-prefix", "order-", "--count", "3", "--json");
        assertThat(watching.err().toString()).contains("watching type=echo keyPrefix=order- on 127.0.0.1:" + port);
        assertThat(submit("--type", "noop", "--key", "order-1").exit()).isZero();
        assertThat(submit("--type", "echo", "--key", "other-1").exit()).isZero();
        final Run run = submit("--type", "echo", "--key", "order-42", "--tenant", "acme", "--payload", "{\"x\":1}");
        assertThat(run.exit()).isZero();
        final long taskId = run.json().get("taskId").asLong();

        assertThat(watching.exit().get(30, TimeUnit.SECONDS)).as(watching.err().toString()).isZero();
        final List<String> lines = watching.lines();
        assertThat(lines).hasSize(3);
        final List<JsonNode> events = new ArrayList<>();
        for (final String line : lines)
        {
            events.add(JSON.readTree(line));
        }
        assertThat(events).extracting(e -> e.get("kind").asText()).containsExactly("SUBMITTED", "STARTED", "SUCCEEDED");
        assertThat(events).extracting(e -> e.get("state").asText()).containsExactly("PENDING", "RUNNING", "SUCCEEDED");
        assertThat(events).extracting(e -> e.get("key").asText()).containsOnly("order-42");
        assertThat(events).extracting(e -> e.get("taskId").asLong()).containsOnly(taskId);
        final JsonNode submitted = events.get(0);
        assertThat(submitted.get("eventId").asLong()).isEqualTo(taskId);
        assertThat(submitted.get("from").isNull()).isTrue();
        assertThat(submitted.get("type").asText()).isEqualTo("echo");
        assertThat(submitted.get("tenant").asText()).isEqualTo("acme");
        assertThat(submitted.get("attempt").asInt()).isEqualTo(1);
        assertThat(submitted.get("time").asText()).endsWith("Z");
        assertThat(submitted.get("document").asText()).startsWith("0x");
        assertThat(events.get(2).get("from").asText()).isEqualTo("RUNNING");
        assertThat(watching.err().toString()).contains("gyre watch: 3 events");
    }

    @Test
    void printsTextLinesUntilInterrupted() throws Exception
    {
        final Watching watching = watch("--tenant", "acme");
        final Run other = submit("--type", "echo", "--key", "k-other", "--tenant", "other");
        assertThat(other.exit()).as(other.err() + other.out()).isZero();
        assertThat(submit("--type", "echo", "--key", "k-1", "--tenant", "acme").exit()).isZero();
        final Run bad = submit("--type", "transform", "--key", "k bad", "--tenant", "acme", "--payload", BAD_TRANSFORM);
        assertThat(bad.exit()).isEqualTo(SubmitCommand.EXIT_NOT_SUCCEEDED);
        await().atMost(30, TimeUnit.SECONDS).until(() -> watching.lines().size() >= 6);

        watching.thread().interrupt();
        assertThat(watching.exit().get(30, TimeUnit.SECONDS)).isZero();
        final List<String> lines = watching.lines();
        assertThat(lines).hasSize(6);
        assertThat(lines.get(0)).matches("\\d{4}-\\d\\d-\\d\\dT\\S+Z SUBMITTED key=k-1 task=\\d+ type=echo tenant=acme none->PENDING attempt=1 event=\\d+");
        assertThat(lines.get(1)).contains(" STARTED key=k-1 ").contains(" PENDING->RUNNING attempt=1 ");
        assertThat(lines.get(2)).contains(" SUCCEEDED key=k-1 ").contains(" RUNNING->SUCCEEDED ");
        assertThat(lines.get(3)).contains(" SUBMITTED key=\"k bad\" ").contains(" type=transform ");
        assertThat(lines.get(5)).contains(" DEAD_LETTERED key=\"k bad\" ").contains(" RUNNING->DEAD_LETTERED attempt=1 reason=PERMANENT_FAILURE ")
            .contains(" error=\"invalid input: ops[0].from: \\\"/nope\\\" matches nothing in the document\"");
        assertThat(watching.err().toString()).contains("gyre watch: 6 events");
    }

    @Test
    void endsWithAnErrorWhenTheServerGoesAway() throws Exception
    {
        final Watching watching = watch();
        server.shutdown();
        assertThat(watching.exit().get(30, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(watching.err().toString()).contains("lost");
    }

    @Test
    void refusalsAndUsageErrorsAreClear() throws Exception
    {
        final Run unknown = gyre("watch", "--port", port, "--type", "nope");
        assertThat(unknown.exit()).isEqualTo(WatchCommand.EXIT_REFUSED);
        assertThat(unknown.err()).contains("UNKNOWN_TYPE").contains("type=nope is not a registered task type");
        assertThat(unknown.out()).isEmpty();

        final Run count = gyre("watch", "--port", port, "--count", "-1");
        assertThat(count.exit()).isEqualTo(2);
        assertThat(count.err()).contains("--count=-1 must not be negative");

        final Run prefix = gyre("watch", "--port", port, "--key-prefix", "");
        assertThat(prefix.exit()).isEqualTo(2);
        assertThat(prefix.err()).contains("--key-prefix must not be empty");

        final Run serve = gyre("serve", "--journal", dir.resolve("other").toString(), "--port", "0", "--max-queued-events", "0");
        assertThat(serve.exit()).isEqualTo(2);
        assertThat(serve.err()).contains("--max-queued-events: maxQueuedEvents=0 must be in [1, 1048576]");

        final int free;
        try (ServerSocket socket = new ServerSocket(0))
        {
            free = socket.getLocalPort();
        }
        final Run none = gyre("watch", "--port", Integer.toString(free), "--timeout-s", "1");
        assertThat(none.exit()).isEqualTo(1);
        assertThat(none.err()).startsWith("gyre watch: ").contains("cannot connect to 127.0.0.1:" + free);
    }
}
