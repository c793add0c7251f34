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
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.gyre.ingress.cli.ServeAndClientCommandsTest.gyre;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code gyre dlq list | show | redrive | purge} against {@code gyre serve} in-process, as a user types them:
 * JSON out, exit codes, usage errors; and {@code gyre replay --print} showing the records they journaled.
 */
class DlqCommandTest
{
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A transform whose pointer matches nothing: it fails permanently, every time. */
    private static final String BAD_TRANSFORM = "{\"input\":{},\"ops\":[{\"op\":\"copy\",\"from\":\"/nope\",\"path\":\"/x\"}]}";

    @TempDir
    Path dir;

    private ServeCommand server;
    private String port;

    @BeforeEach
    void serve() throws Exception
    {
        final CommandLine commandLine = new CommandLine(new GyreCommand());
        commandLine.setOut(new PrintWriter(new StringWriter(), true));
        commandLine.setErr(new PrintWriter(new StringWriter(), true));
        server = commandLine.getSubcommands().get("serve").getCommand();
        final CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() ->
            GyreCommand.execute(commandLine, "serve", "--journal", dir.resolve("data").toString(), "--port", "0",
                "--monitor-port", "0"));
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
    void stop()
    {
        server.shutdown();
    }

    private Run dlq(final String... args)
    {
        final String[] full = new String[args.length + 3];
        full[0] = "dlq";
        System.arraycopy(args, 0, full, 1, args.length);
        full[args.length + 1] = "--port";
        full[args.length + 2] = port;
        return gyre(full);
    }

    private void deadLetter(final String key) throws Exception
    {
        final Run run = gyre("submit", "--port", port, "--type", "transform", "--key", key, "--payload", BAD_TRANSFORM);
        assertThat(run.exit()).as(run.err()).isEqualTo(SubmitCommand.EXIT_NOT_SUCCEEDED);
        assertThat(run.json().get("state").asText()).isEqualTo("DEAD_LETTERED");
    }

    @Test
    void listShowRedriveAndPurgeAsAUserTypesThem() throws Exception
    {
        final Run empty = dlq("list");
        assertThat(empty.exit()).as(empty.err()).isZero();
        assertThat(empty.json()).isEqualTo(JSON.readTree("{\"letters\":[],\"nextCursor\":0,\"more\":false,\"total\":0}"));

        for (int i = 1; i <= 3; i++)
        {
            deadLetter("bad-" + i);
        }

        final Run firstPage = dlq("list", "--limit", "2");
        assertThat(firstPage.exit()).isZero();
        final JsonNode page = firstPage.json();
        assertThat(page.get("letters")).hasSize(2);
        assertThat(page.get("more").asBoolean()).isTrue();
        assertThat(page.get("total").asInt()).isEqualTo(3);
        final JsonNode letter = page.get("letters").get(0);
        assertThat(letter.get("key").asText()).isEqualTo("bad-1");
        assertThat(letter.get("cursor").asLong()).isEqualTo(1);
        assertThat(letter.get("type").asText()).isEqualTo("transform");
        assertThat(letter.get("reason").asText()).isEqualTo("PERMANENT_FAILURE");
        assertThat(letter.get("attempts").asInt()).isEqualTo(1);
        assertThat(letter.get("error").asText()).startsWith("invalid input: ops[0]").contains("/nope");
        assertThat(letter.get("submittedAt").asText()).endsWith("Z");
        assertThat(letter.get("deadLetteredAt").asText()).endsWith("Z");
        final Run secondPage = dlq("list", "--after", page.get("nextCursor").asText());
        assertThat(secondPage.json().get("letters")).extracting(node -> node.get("key").asText()).containsExactly("bad-3");
        assertThat(secondPage.json().get("more").asBoolean()).isFalse();

        final Run show = dlq("show", "--key", "bad-2");
        assertThat(show.exit()).isZero();
        final JsonNode shown = show.json();
        assertThat(shown.get("found").asBoolean()).isTrue();
        assertThat(shown.get("key").asText()).isEqualTo("bad-2");
        assertThat(shown.get("reason").asText()).isEqualTo("PERMANENT_FAILURE");
        assertThat(shown.get("priority").asText()).isEqualTo("NORMAL");
        assertThat(shown.get("tenant").asText()).isEmpty();
        assertThat(shown.get("maxAttempts").asInt()).isPositive();
        assertThat(shown.get("timeoutMillis").asInt()).isPositive();
        assertThat(shown.get("payload")).as("a JSON payload is embedded as JSON").isEqualTo(JSON.readTree(BAD_TRANSFORM));
        final Run missing = dlq("show", "--key", "nobody");
        assertThat(missing.exit()).isEqualTo(DlqCommand.EXIT_NOT_DONE);
        assertThat(missing.json()).isEqualTo(JSON.readTree("{\"key\":\"nobody\",\"found\":false}"));

        final Run redrive = dlq("redrive", "--key", "bad-1");
        assertThat(redrive.exit()).as(redrive.out()).isZero();
        final JsonNode redriven = redrive.json();
        assertThat(redriven.get("outcome").asText()).isEqualTo("REDRIVEN");
        assertThat(redriven.get("redriven").asBoolean()).isTrue();
        assertThat(redriven.get("state").asText()).isEqualTo("RETRY_WAIT");
        assertThat(redriven.get("attempts").asInt()).isEqualTo(1);
        assertThat(redriven.get("message").asText()).contains("redriven");
        // the same input fails the same way: the task is dead-lettered again, after its second attempt
        await().until(() -> dlq("show", "--key", "bad-1").exit() == 0);
        final JsonNode again = dlq("show", "--key", "bad-1").json();
        assertThat(again.get("attempts").asInt()).isEqualTo(2);
        assertThat(again.get("taskId")).isEqualTo(letter.get("taskId"));
        assertThat(again.get("cursor").asLong()).as("a new entry, at the end").isEqualTo(4);

        final Run notDead = dlq("redrive", "--key", "nobody");
        assertThat(notDead.exit()).isEqualTo(DlqCommand.EXIT_NOT_DONE);
        assertThat(notDead.json().get("outcome").asText()).isEqualTo("NOT_DEAD_LETTERED");
        assertThat(notDead.json().get("message").asText()).isEqualTo("key nobody is not dead-lettered: no task with this key is known");

        final Run purge = dlq("purge", "--key", "bad-2");
        assertThat(purge.exit()).isZero();
        assertThat(purge.json()).isEqualTo(JSON.readTree("{\"key\":\"bad-2\",\"purged\":1,\"remaining\":2}"));
        final Run purgeAgain = dlq("purge", "--key", "bad-2");
        assertThat(purgeAgain.exit()).isEqualTo(DlqCommand.EXIT_NOT_DONE);
        assertThat(purgeAgain.json().get("purged").asInt()).isZero();
        final Run purgeAll = dlq("purge", "--all");
        assertThat(purgeAll.exit()).isZero();
        assertThat(purgeAll.json()).isEqualTo(JSON.readTree("{\"all\":true,\"purged\":2,\"remaining\":0}"));

        // what the journal says: every request recorded, readable
        final Run replay = gyre("replay", "--journal", dir.resolve("data").toString(), "--print", "--progress-every", "0");
        assertThat(replay.exit()).as(replay.err()).isZero();
        final List<String> lines = replay.out().lines().toList();
        assertThat(lines).anySatisfy(line -> assertThat(line).contains("REDRIVE_REQUESTED key=\"bad-1\""));
        assertThat(lines).anySatisfy(line -> assertThat(line).contains("RETRY_SCHEDULED task=").contains("reason=3(after-redrive)"));
        assertThat(lines).anySatisfy(line -> assertThat(line).contains("PURGE_REQUESTED key=\"bad-2\""));
        assertThat(lines).anySatisfy(line -> assertThat(line).endsWith("PURGE_REQUESTED all"));
        assertThat(lines).anySatisfy(line -> assertThat(line).contains("SUBMITTED key=\"bad-1\"").contains("deadLetter=true"));
        assertThat(replay.out()).contains("dead letters: 0 in the list").contains("verdict:     ok");
    }

    @Test
    void usageErrorsAreExitCodeTwoWithAMessage()
    {
        final Run none = gyre("dlq");
        assertThat(none.exit()).isEqualTo(2);
        assertThat(none.err()).contains("Missing subcommand").contains("list").contains("redrive");

        final Run neither = dlq("purge");
        assertThat(neither.exit()).isEqualTo(2);
        assertThat(neither.err()).contains("--key").contains("--all");

        final Run both = dlq("purge", "--key", "k", "--all");
        assertThat(both.exit()).isEqualTo(2);
        assertThat(both.err()).contains("mutually exclusive");

        final Run limit = dlq("list", "--limit", "0");
        assertThat(limit.exit()).isEqualTo(2);
        assertThat(limit.err()).contains("--limit must be in [1, 1000], not 0");

        final Run after = dlq("list", "--after", "-5");
        assertThat(after.exit()).isEqualTo(2);
        assertThat(after.err()).contains("--after must not be negative, not -5");

        final Run noKey = dlq("show");
        assertThat(noKey.exit()).isEqualTo(2);
        assertThat(noKey.err()).contains("--key");
        assertThat(noKey.out()).isEmpty();
    }

    @Test
    void aBadDeadLetterBoundIsAClearErrorOfServe()
    {
        final Run run = gyre("serve", "--journal", dir.resolve("other").toString(), "--port", "0", "--max-dead-letters", "-1");
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).contains("--max-dead-letters: maxDeadLetters=-1 must be in [0, 10000000]");
    }

    @Test
    void noServerIsAClearError() throws Exception
    {
        final int free;
        try (ServerSocket socket = new ServerSocket(0))
        {
            free = socket.getLocalPort();
        }
        final Run run = gyre("dlq", "list", "--port", Integer.toString(free), "--timeout-s", "1");
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).startsWith("gyre dlq list: ").contains("cannot connect to 127.0.0.1:" + free);
    }
}
