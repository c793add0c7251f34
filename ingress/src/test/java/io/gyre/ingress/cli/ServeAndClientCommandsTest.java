package io.gyre.ingress.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code gyre serve} in-process, driven by {@code gyre submit}, {@code status} and {@code cancel} as a user
 * types them: JSON out, exit codes, config files.
 */
class ServeAndClientCommandsTest
{
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private final List<ServeCommand> servers = new ArrayList<>();

    @AfterEach
    void stop()
    {
        servers.forEach(ServeCommand::shutdown);
    }

    record Run(int exit, String out, String err)
    {
        JsonNode json() throws Exception
        {
            return JSON.readTree(out);
        }
    }

    static Run gyre(final String... args)
    {
        final CommandLine commandLine = new CommandLine(new GyreCommand());
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        final int exit = GyreCommand.execute(commandLine, args);
        return new Run(exit, out.toString(), err.toString());
    }

    /** Start {@code gyre serve} with these arguments on a thread; return its port. */
    private int serve(final String... args) throws Exception
    {
        return start(args).port();
    }

    /** A {@code gyre serve} running on a thread: the command, what it printed so far, its exit code to come. */
    record Served(ServeCommand command, StringWriter out, CompletableFuture<Integer> exit, int port)
    {
    }

    private Served start(final String... args) throws Exception
    {
        final CommandLine commandLine = new CommandLine(new GyreCommand());
        final StringWriter out = new StringWriter();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(new StringWriter(), true));
        final ServeCommand serve = commandLine.getSubcommands().get("serve").getCommand();
        // the monitoring endpoint on a free port, so tests (and a gyre running on this machine) never collide on 7071
        final String[] withMonitor = java.util.Arrays.asList(args).contains("--monitor-port") ? args :
            java.util.stream.Stream.concat(java.util.Arrays.stream(args), java.util.stream.Stream.of("--monitor-port", "0")).toArray(String[]::new);
        final CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> GyreCommand.execute(commandLine, withMonitor));
        final var address = CompletableFuture.supplyAsync(() ->
        {
            try
            {
                return serve.awaitListening();
            }
            catch (final InterruptedException ex)
            {
                throw new IllegalStateException(ex);
            }
        });
        try
        {
            final int port = CompletableFuture.anyOf(address, exit).thenApply(x -> address.getNow(null)).get(60, TimeUnit.SECONDS).getPort();
            servers.add(serve);
            assertThat(out.toString()).startsWith("gyre serving on 127.0.0.1:" + port + " (journal ");
            return new Served(serve, out, exit, port);
        }
        catch (final NullPointerException ex)
        {
            throw new AssertionError("gyre serve exited with " + exit.join());
        }
    }

    @Test
    void stopsCleanlyWithinItsShutdownTimeoutAndSaysWhatWasLeft() throws Exception
    {
        final Path config = dir.resolve("gyre.properties");
        Files.writeString(config, "shutdown-timeout=1500ms\nport=0\n");
        final String journal = dir.resolve("data").toString();
        final Served first = start("serve", "--config", config.toString(), "--journal", journal);
        assertThat(first.out().toString()).contains("previous run: none (a new journal)");
        assertThat(gyre("submit", "--port", Integer.toString(first.port()), "--type", "echo", "--payload", "x", "--key", "k").exit()).isZero();

        first.command().shutdown();
        assertThat(first.exit().get(30, TimeUnit.SECONDS)).isZero();
        assertThat(first.out().toString())
            .contains("gyre stopping (asked to stop): no new connections or requests; attempts running have up to 1500ms to finish")
            .contains("gyre stopped cleanly: nothing left");

        final Served second = start("serve", "--journal", journal, "--port", "0", "--shutdown-timeout", "PT2M");
        assertThat(second.out().toString()).containsPattern("previous run: stopped cleanly\\R");
        second.command().shutdown();
        assertThat(second.exit().get(30, TimeUnit.SECONDS)).isZero();
        assertThat(second.out().toString()).contains("attempts running have up to 2m to finish");
    }

    /** A journal keeps the roll cycle it was written with: said once, not as Chronicle Queue's four WARN lines. */
    @Test
    void keepsAnExistingJournalsRollCycleAndSaysSo() throws Exception
    {
        final String journal = dir.resolve("data").toString();
        final Served first = start("serve", "--journal", journal, "--port", "0", "--roll-cycle", "TEST_SECONDLY");
        first.command().shutdown();
        assertThat(first.exit().get(30, TimeUnit.SECONDS)).isZero();
        assertThat(first.out().toString()).doesNotContain("roll cycle");

        final Served second = start("serve", "--journal", journal, "--port", "0");
        assertThat(second.out().toString())
            .contains("journal " + journal + " was written with roll cycle TEST_SECONDLY: kept (--roll-cycle FAST_DAILY applies to new journals)");
        assertThat(gyre("submit", "--port", Integer.toString(second.port()), "--type", "echo", "--payload", "x", "--key", "k2").exit()).isZero();
        second.command().shutdown();
        assertThat(second.exit().get(30, TimeUnit.SECONDS)).isZero();
    }

    @Test
    void theLargestPayloadAndOutputAreOptions() throws Exception
    {
        final int port = serve("serve", "--journal", dir.resolve("data").toString(), "--port", "0", "--max-payload-bytes", "200",
            "--max-output-bytes", "64");
        final Run tooMuchOutput = gyre("submit", "--port", Integer.toString(port), "--type", "echo", "--payload", "x".repeat(100));
        assertThat(tooMuchOutput.exit()).isEqualTo(3);
        assertThat(tooMuchOutput.json().get("error").asText()).isEqualTo("output of 100 bytes exceeds maxOutputBytes=64");
        final Run tooLarge = gyre("submit", "--port", Integer.toString(port), "--type", "echo", "--payload", "x".repeat(201));
        assertThat(tooLarge.exit()).isEqualTo(4);
        assertThat(tooLarge.out() + tooLarge.err()).contains("201").contains("200");

        final Run outOfRange = gyre("serve", "--journal", dir.resolve("j").toString(), "--port", "0", "--max-output-bytes", "5000000");
        assertThat(outOfRange.exit()).isEqualTo(2);
        assertThat(outOfRange.err()).contains("--max-output-bytes: maxOutputBytes=5000000");
    }

    /**
     * The docs write priorities and other named values in lower case ("high, normal, low"): any case is taken (an
     * outside check had {@code --priority low} refused, exit 2); a name that is none of them is still a usage error.
     */
    @Test
    void namedValuesAreTakenInAnyCase() throws Exception
    {
        final String port = Integer.toString(serve("serve", "--journal", dir.resolve("data").toString(), "--port", "0",
            "--transport", "nio", "--wait-strategy", "backoff"));
        final Run low = gyre("submit", "--port", port, "--type", "echo", "--payload", "1", "--key", "low", "--priority", "low");
        assertThat(low.exit()).as(low.err()).isZero();
        assertThat(gyre("submit", "--port", port, "--type", "echo", "--payload", "1", "--key", "high", "--priority", "High").exit()).isZero();
        final Run bogus = gyre("submit", "--port", port, "--type", "echo", "--payload", "1", "--key", "x", "--priority", "urgent");
        assertThat(bogus.exit()).isEqualTo(2);
        assertThat(bogus.err()).contains("--priority").contains("urgent");
    }

    /**
     * {@code --no-dead-letter} is the protocol's NO_DEAD_LETTER: a task that fails for good ends FAILED, out of the
     * dead-letter list (an outside check found no way to submit it from the command line).
     */
    @Test
    void aSubmissionCanOptOutOfTheDeadLetterList() throws Exception
    {
        final String port = Integer.toString(serve("serve", "--journal", dir.resolve("data").toString(), "--port", "0"));
        // a pointer that is not one: a permanent failure of the set type
        final String bad = "{\"values\":{\"a\":1}}";
        final Run optedOut = gyre("submit", "--port", port, "--type", "set", "--payload", bad, "--key", "out", "--no-dead-letter");
        assertThat(optedOut.exit()).as(optedOut.err()).isEqualTo(3);
        assertThat(optedOut.json().get("state").asText()).isEqualTo("FAILED");
        final Run lettered = gyre("submit", "--port", port, "--type", "set", "--payload", bad, "--key", "in");
        assertThat(lettered.exit()).isEqualTo(3);
        assertThat(lettered.json().get("state").asText()).isEqualTo("DEAD_LETTERED");
        final Run list = gyre("dlq", "list", "--port", port);
        assertThat(list.out()).contains("\"in\"").doesNotContain("\"out\"");
    }

    @Test
    void theDedupeWindowIsAnOption() throws Exception
    {
        final String port = Integer.toString(serve("serve", "--journal", dir.resolve("data").toString(), "--port", "0",
            "--max-retained-outcomes", "2", "--dedupe-window", "1h"));
        for (final String key : List.of("a", "b", "c"))
        {
            assertThat(gyre("submit", "--port", port, "--type", "echo", "--payload", "1", "--key", key).exit()).isZero();
        }
        // two outcomes remembered: "a", the oldest, is forgotten and runs again; "c" is answered with its outcome
        final Run a = gyre("submit", "--port", port, "--type", "echo", "--payload", "2", "--key", "a");
        assertThat(a.json().get("duplicate").asBoolean()).isFalse();
        assertThat(a.json().get("output").asText()).isEqualTo("2");
        final Run c = gyre("submit", "--port", port, "--type", "echo", "--payload", "2", "--key", "c");
        assertThat(c.json().get("duplicate").asBoolean()).isTrue();
        assertThat(c.json().get("output").asText()).isEqualTo("1");

        final Run negative = gyre("serve", "--journal", dir.resolve("j").toString(), "--port", "0", "--max-retained-outcomes", "-1");
        assertThat(negative.exit()).isEqualTo(2);
        assertThat(negative.err()).contains("--max-retained-outcomes: maxRetainedOutcomes=-1 must be in [0, 100000000]");
        final Run tooMany = gyre("serve", "--journal", dir.resolve("j").toString(), "--port", "0", "--max-retained-outcomes", "100000000");
        assertThat(tooMany.exit()).as("more than the heap holds").isEqualTo(2);
        assertThat(tooMany.err()).contains("--max-retained-outcomes: maxRetainedOutcomes=100000000 needs 15.0 GiB of heap");
        final Run tooLong = gyre("serve", "--journal", dir.resolve("j").toString(), "--port", "0", "--dedupe-window", "3651d");
        assertThat(tooLong.exit()).isEqualTo(2);
        assertThat(tooLong.err()).contains("--dedupe-window: outcomeRetention=PT87624H must be between 0 and 3650 days");
        final Run shape = gyre("serve", "--journal", dir.resolve("j").toString(), "--port", "0", "--dedupe-window", "a day");
        assertThat(shape.exit()).isEqualTo(2);
        assertThat(shape.err()).contains("'a day' is not a duration");
    }

    /**
     * Every ring size the help allows starts: an outside check found {@code --ring-size 1024} refused over a
     * per-tick timer budget no option sets.
     */
    @Test
    void aSmallRingSizeStarts() throws Exception
    {
        for (final String ringSize : List.of("64", "1024"))
        {
            final String port = Integer.toString(serve("serve", "--journal", dir.resolve("data-" + ringSize).toString(), "--port", "0",
                "--ring-size", ringSize));
            final Run run = gyre("submit", "--port", port, "--type", "echo", "--payload", "x", "--key", "k");
            assertThat(run.exit()).as(run.err()).isZero();
            assertThat(run.json().get("output").asText()).isEqualTo("x");
        }
        final Run notAPowerOfTwo = gyre("serve", "--journal", dir.resolve("j").toString(), "--port", "0", "--ring-size", "1000");
        assertThat(notAPowerOfTwo.exit()).isEqualTo(2);
        assertThat(notAPowerOfTwo.err()).contains("ringSize=1000 must be a power of two, at least 64");
        // an outside check found this one accepted, and the JVM then ran out of heap (exit 1, OutOfMemoryError)
        final Run tooLarge = gyre("serve", "--journal", dir.resolve("j").toString(), "--port", "0", "--ring-size", "1073741824");
        assertThat(tooLarge.exit()).isEqualTo(2);
        assertThat(tooLarge.err()).contains("--ring-size: ringSize=1073741824 must be at most 1048576 (2^20)");
        final Run moreThanTheHeap = gyre("serve", "--journal", dir.resolve("j").toString(), "--port", "0", "--ring-size", "1048576");
        assertThat(moreThanTheHeap.exit()).as("the tests run with -Xmx2g").isEqualTo(2);
        assertThat(moreThanTheHeap.err()).contains("--ring-size: ringSize=1048576 needs 2.0 GiB of heap");
    }

    @Test
    void aBadShutdownTimeoutIsAClearError()
    {
        for (final String[] bad : new String[][] {
            {"10", "'10' is not a duration: a whole number and a unit (ms, s, m, h, d), e.g. 30s or 10m, or ISO-8601, e.g. PT30S"},
            {"-5s", "'-5s' is negative"},
            {"99999999999999999999s", "'99999999999999999999s' is too long to be a duration"},
            {"9999999999999999d", "'9999999999999999d' is too long to be a duration"},
            {"1000000000s", "'1000000000s' is out of range: from 0 to 24h"},
            {"soon", "'soon' is not a duration"},
            {"25h", "'25h' is out of range: from 0 to 24h"},
            {"2d", "'2d' is out of range: from 0 to 24h"},
            {"PT-1S", "'PT-1S' is negative"}})
        {
            final Run run = gyre("serve", "--journal", dir.resolve("j").toString(), "--port", "0", "--shutdown-timeout", bad[0]);
            assertThat(run.exit()).as(bad[0]).isEqualTo(2);
            assertThat(run.err()).as(bad[0]).contains("Invalid value for option '--shutdown-timeout': " + bad[1]);
        }
        assertThat(dir.resolve("j")).doesNotExist();
        assertThat(ServeCommand.DurationConverter.parse("0")).isZero();
    }

    @Test
    void aBadLogFormatIsAUsageError() throws Exception
    {
        final Run run = gyre("serve", "--journal", dir.resolve("j").toString(), "--port", "0", "--log-format", "xml");
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).contains("Invalid value for option '--log-format': 'xml' is not a log format: text or json");
        assertThat(dir.resolve("j")).doesNotExist();

        final Path config = dir.resolve("gyre.properties");
        Files.writeString(config, "log-format=yaml\n");
        final Run fromFile = gyre("serve", "--config", config.toString(), "--journal", dir.resolve("j").toString(), "--port", "0");
        assertThat(fromFile.exit()).isEqualTo(2);
        assertThat(fromFile.err()).contains("'yaml' is not a log format: text or json");
        assertThat(dir.resolve("j")).doesNotExist();
    }

    @Test
    void submitStatusAndCancelAgainstServe() throws Exception
    {
        final String port = Integer.toString(serve("serve", "--journal", dir.resolve("data").toString(), "--port", "0"));

        final Run first = gyre("submit", "--port", port, "--type", "echo", "--payload", "{\"x\":1}", "--key", "order-42");
        assertThat(first.exit()).as(first.err()).isZero();
        final JsonNode outcome = first.json();
        assertThat(outcome.get("key").asText()).isEqualTo("order-42");
        assertThat(outcome.get("state").asText()).isEqualTo("SUCCEEDED");
        assertThat(outcome.get("output")).isEqualTo(JSON.readTree("{\"x\":1}"));
        assertThat(outcome.get("duplicate").asBoolean()).isFalse();
        assertThat(outcome.get("attempts").asInt()).isEqualTo(1);
        assertThat(outcome.get("submittedAt").asText()).endsWith("Z");

        final Run again = gyre("submit", "--port", port, "--type", "echo", "--payload", "{\"x\":2}", "--key", "order-42");
        assertThat(again.exit()).isZero();
        assertThat(again.json().get("duplicate").asBoolean()).isTrue();
        assertThat(again.json().get("taskId")).isEqualTo(outcome.get("taskId"));
        assertThat(again.json().get("output")).isEqualTo(JSON.readTree("{\"x\":1}"));

        final Run text = gyre("submit", "--port", port, "--type", "echo", "--payload", "plain text");
        assertThat(text.json().get("output").asText()).isEqualTo("plain text");
        assertThat(text.json().get("key").asText()).hasSize(36);

        final Run status = gyre("status", "--port", port, "--key", "order-42");
        assertThat(status.exit()).isZero();
        assertThat(status.json().get("found").asBoolean()).isTrue();
        assertThat(status.json().get("state").asText()).isEqualTo("SUCCEEDED");
        assertThat(status.json().get("taskId")).isEqualTo(outcome.get("taskId"));

        final Run missing = gyre("status", "--port", port, "--key", "nobody");
        assertThat(missing.exit()).isEqualTo(StatusCommand.EXIT_NOT_FOUND);
        assertThat(missing.json().get("found").asBoolean()).isFalse();

        final Run cancel = gyre("cancel", "--port", port, "--key", "order-42");
        assertThat(cancel.exit()).isZero();
        assertThat(cancel.json().get("state").asText()).as("finished tasks stay as they are").isEqualTo("SUCCEEDED");

        final Run unknown = gyre("submit", "--port", port, "--type", "no-such-type", "--key", "k");
        assertThat(unknown.exit()).isEqualTo(SubmitCommand.EXIT_REJECTED);
        assertThat(unknown.json().get("rejected").asText()).isEqualTo("UNKNOWN_TYPE");
        assertThat(unknown.json().get("error").asText()).contains("no-such-type");

        final Run usage = gyre("submit", "--port", port);
        assertThat(usage.exit()).isEqualTo(2);
        assertThat(usage.err()).contains("--type");
    }

    @Test
    void submitWithoutWaitingReturnsOnceTheTaskIsJournaled() throws Exception
    {
        final String port = Integer.toString(serve("serve", "--journal", dir.resolve("data").toString(), "--port", "0"));

        final Run accepted = gyre("submit", "--port", port, "--type", "wait", "--payload", "{\"duration\":\"PT60S\"}", "--key", "w1", "--no-wait");
        assertThat(accepted.exit()).as(accepted.err()).isZero();
        assertThat(accepted.json().get("key").asText()).isEqualTo("w1");
        assertThat(accepted.json().get("state").asText()).isEqualTo("ACCEPTED");
        assertThat(accepted.json().get("taskId").asLong()).isPositive();

        // the task runs on without the client that submitted it, until it is cancelled
        final Run running = gyre("status", "--port", port, "--key", "w1");
        assertThat(running.json().get("state").asText()).isIn("PENDING", "RUNNING");
        assertThat(running.json().get("taskId")).isEqualTo(accepted.json().get("taskId"));
        final Run again = gyre("submit", "--port", port, "--type", "wait", "--payload", "{\"duration\":\"PT60S\"}", "--key", "w1", "--no-wait");
        assertThat(again.exit()).isZero();
        assertThat(again.json().get("taskId")).as("the live task, joined").isEqualTo(accepted.json().get("taskId"));
        final Run cancel = gyre("cancel", "--port", port, "--key", "w1");
        assertThat(cancel.json().get("state").asText()).isEqualTo("CANCELLED");

        // a key whose outcome is recorded answers with it, as without --no-wait, exit code included
        final Run recorded = gyre("submit", "--port", port, "--type", "wait", "--key", "w1", "--no-wait");
        assertThat(recorded.exit()).isEqualTo(SubmitCommand.EXIT_NOT_SUCCEEDED);
        assertThat(recorded.json().get("state").asText()).isEqualTo("CANCELLED");
        assertThat(recorded.json().get("duplicate").asBoolean()).isTrue();

        final Run refused = gyre("submit", "--port", port, "--type", "no-such-type", "--key", "k", "--no-wait");
        assertThat(refused.exit()).isEqualTo(SubmitCommand.EXIT_REJECTED);
        assertThat(refused.json().get("rejected").asText()).isEqualTo("UNKNOWN_TYPE");
    }

    @Test
    void submitTakesItsPayloadFromAFileAndRefusesBadOptionsAsUsageErrors() throws Exception
    {
        final String port = Integer.toString(serve("serve", "--journal", dir.resolve("data").toString(), "--port", "0"));
        final java.nio.file.Path file = dir.resolve("payload.json");
        java.nio.file.Files.writeString(file, "{\"from\":\"a file\"}");

        final Run fromFile = gyre("submit", "--port", port, "--type", "echo", "--payload-file", file.toString());
        assertThat(fromFile.exit()).as(fromFile.err()).isZero();
        assertThat(fromFile.json().get("output")).isEqualTo(JSON.readTree("{\"from\":\"a file\"}"));

        // larger than a command line may be, and larger than the server takes: refused, and the server goes on
        final java.nio.file.Path big = dir.resolve("big.bin");
        java.nio.file.Files.write(big, new byte[8 << 20]);
        final Run tooBig = gyre("submit", "--port", port, "--type", "echo", "--payload-file", big.toString());
        assertThat(tooBig.exit()).as(tooBig.out() + tooBig.err()).isEqualTo(SubmitCommand.EXIT_REJECTED);
        assertThat(tooBig.err()).contains("max frame").contains("payload");
        assertThat(gyre("submit", "--port", port, "--type", "noop").exit()).isZero();

        final Run both = gyre("submit", "--port", port, "--type", "echo", "--payload", "x", "--payload-file", file.toString());
        assertThat(both.exit()).isEqualTo(2);
        assertThat(both.err()).contains("--payload or --payload-file");
        final Run missing = gyre("submit", "--port", port, "--type", "echo", "--payload-file", dir.resolve("nope").toString());
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).contains("--payload-file").contains("nope");
        final Run attempts = gyre("submit", "--port", port, "--type", "noop", "--max-attempts", "-1");
        assertThat(attempts.exit()).isEqualTo(2);
        assertThat(attempts.err()).contains("--max-attempts=-1");
        final Run timeout = gyre("submit", "--port", port, "--type", "noop", "--task-timeout-ms", "-5");
        assertThat(timeout.exit()).isEqualTo(2);
        assertThat(timeout.err()).contains("--task-timeout-ms=-5");

        final Run longer = gyre("submit", "--port", port, "--type", "wait", "--payload", "PT30S", "--key", "slow", "--timeout-s", "1");
        assertThat(longer.exit()).as("no outcome within the wait").isEqualTo(1);
        assertThat(longer.out()).isEmpty();
        assertThat(longer.err()).containsPattern("task [0-9]+ \\(key slow\\) was accepted and runs on, but ")
            .contains("gyre status --key slow");
        for (final String[] command : new String[][] {{"status"}, {"cancel"}, {"dlq", "show"}, {"dlq", "redrive"}, {"dlq", "purge"}})
        {
            final List<String> args = new ArrayList<>(List.of(command));
            args.addAll(List.of("--port", port, "--key", ""));
            final Run emptyKey = gyre(args.toArray(new String[0]));
            assertThat(emptyKey.exit()).as(String.join(" ", command)).isEqualTo(2);
            assertThat(emptyKey.err()).contains("--key must be 1 to 65535 bytes of UTF-8, not 0");
        }
    }

    @Test
    void submitCarriesARetryPolicyAndRefusesABadOne() throws Exception
    {
        final java.nio.file.Path journal = dir.resolve("data");
        final String port = Integer.toString(serve("serve", "--journal", journal.toString(), "--port", "0"));
        final Run run = gyre("submit", "--port", port, "--type", "noop", "--key", "patient", "--backoff", "250ms,4s,1.5,0.125");
        assertThat(run.exit()).as(run.err()).isZero();
        final Run printed = gyre("replay", "--journal", journal.toString(), "--print");
        assertThat(printed.out()).containsPattern("SUBMITTED key=\"patient\".* backoff=250ms\\*1.5<=4000ms jitter=0.125");

        for (final String[] bad : new String[][] {
            {"1s", "--backoff '1s' must be INITIAL,MAX,MULTIPLIER,JITTER, e.g. 200ms,30s,3,0.1"},
            {"0ms,1s,2,0.1", "--backoff '0ms,1s,2,0.1': backoffInitialMillis=0 must be at least 1"},
            {"2s,1s,2,0.1", "--backoff '2s,1s,2,0.1': backoffMaxMillis=1000 must be at least backoffInitialMillis=2000"},
            {"1s,2s,0.5,0.1", "--backoff '1s,2s,0.5,0.1': backoffMultiplier=0.5 must be in [1, 100]"},
            {"1s,2s,2,1.5", "--backoff '1s,2s,2,1.5': backoffJitter=1.5 must be in [0, 1]"},
            {"1s,2s,twice,0.1", "--backoff '1s,2s,twice,0.1': MULTIPLIER and JITTER must be numbers"},
            {"soon,2s,2,0.1", "--backoff 'soon,2s,2,0.1': 'soon' is not a duration"},
            {"1s,30d,2,0.1", "--backoff '1s,30d,2,0.1': INITIAL and MAX must be at most 2147483647 ms"},
            // the wire carries hundredths of the multiplier and thousandths of the jitter: more is refused, not rounded
            {"1000ms,10s,1.005,0", "--backoff '1000ms,10s,1.005,0': backoffMultiplier=1.005 has more than two decimals"},
            {"1s,2s,1.0000001,0", "--backoff '1s,2s,1.0000001,0': backoffMultiplier=1.0000001 has more than two decimals"},
            {"1s,2s,2,0.0005", "--backoff '1s,2s,2,0.0005': backoffJitter=0.0005 has more than three decimals"}})
        {
            final Run refused = gyre("submit", "--port", port, "--type", "noop", "--backoff", bad[0]);
            assertThat(refused.exit()).as(bad[0]).isEqualTo(2);
            assertThat(refused.err()).as(bad[0]).contains(bad[1]);
        }
        assertThat(SubmitCommand.parseBackoff("1s,2s,2.50,0.1250")).isEqualTo(new io.gyre.engine.Backoff(1000, 2000, 2.5f, 0.125f));
        assertThat(SubmitCommand.parseBackoff("1s,2s,100,1")).isEqualTo(new io.gyre.engine.Backoff(1000, 2000, 100f, 1f));
    }

    @Test
    void noServerIsAClearError() throws Exception
    {
        final int port;
        try (ServerSocket socket = new ServerSocket(0))
        {
            port = socket.getLocalPort();
        }
        final Run run = gyre("submit", "--port", Integer.toString(port), "--type", "noop", "--timeout-s", "1");
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).contains("cannot connect to 127.0.0.1:" + port);
    }

    /**
     * {@code --timeout-s} bounds the wait for the server's handshake too, not a fixed 5 s: on a loaded machine the commands
     * gave up on a healthy server after 5 s with 30 to wait (an outside check).
     */
    @Test
    void aServerThatNeverAnswersTheHandshakeIsWaitedForAsLongAsTimeoutSays() throws Exception
    {
        try (ServerSocket silent = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress()))
        {
            final Thread accepting = new Thread(() ->
            {
                final java.util.List<java.net.Socket> held = new java.util.ArrayList<>();
                try
                {
                    while (true)
                    {
                        held.add(silent.accept());
                    }
                }
                catch (final IOException closed)
                {
                    held.forEach(socket ->
                    {
                        try
                        {
                            socket.close();
                        }
                        catch (final IOException ignored)
                        {
                        }
                    });
                }
            });
            accepting.setDaemon(true);
            accepting.start();
            final Run run = gyre("status", "--port", Integer.toString(silent.getLocalPort()), "--key", "k", "--timeout-s", "7");
            assertThat(run.exit()).isEqualTo(1);
            assertThat(run.err()).contains("no handshake with 127.0.0.1:" + silent.getLocalPort() + " within PT7S (--timeout-s 7)");
        }
    }

    @Test
    void aWaitOfLessThanASecondOrANegativeTaskTimeoutIsAUsageErrorNamingTheOption()
    {
        for (final String[] command : new String[][] {{"submit", "--type", "noop"}, {"status", "--key", "k"}, {"cancel", "--key", "k"},
            {"dlq", "list"}, {"watch"}})
        {
            final String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(command), java.util.stream.Stream.of("--timeout-s", "-1"))
                .toArray(String[]::new);
            final Run run = gyre(args);
            assertThat(run.exit()).as(String.join(" ", command)).isEqualTo(2);
            assertThat(run.err()).contains("--timeout-s=-1 must be at least 1");
            final Run port = gyre(java.util.stream.Stream.concat(java.util.Arrays.stream(command), java.util.stream.Stream.of("--port", "70000"))
                .toArray(String[]::new));
            assertThat(port.exit()).as(String.join(" ", command) + " --port 70000").isEqualTo(2);
            assertThat(port.err()).contains("--port=70000 must be in [1, 65535]");
        }
        final Run attempts = gyre("submit", "--type", "noop", "--max-attempts", "1001");
        assertThat(attempts.exit()).isEqualTo(2);
        assertThat(attempts.err()).contains("--max-attempts=1001 must be in [0, 1000] (0: the task type's default)");
        final Run taskTimeout = gyre("submit", "--type", "noop", "--task-timeout-ms", "-5");
        assertThat(taskTimeout.exit()).isEqualTo(2);
        assertThat(taskTimeout.err()).contains("--task-timeout-ms=-5 must not be negative");
    }

    @Test
    void aConfigFileSetsDefaultsAndOptionsOverrideIt() throws Exception
    {
        final Path config = dir.resolve("gyre.properties");
        Files.writeString(config, "journal=" + dir.resolve("from-config").toString().replace("\\", "/") + "\nauth-token=from-file\nport=0\n");
        final String port = Integer.toString(serve("serve", "--config", config.toString()));
        assertThat(dir.resolve("from-config")).isDirectory();

        final Run refused = gyre("submit", "--port", port, "--type", "noop", "--timeout-s", "2");
        assertThat(refused.exit()).as("refused by the server").isEqualTo(4);
        assertThat(refused.out()).isEmpty();
        assertThat(refused.err()).contains("AUTH_FAILED");
        assertThat(gyre("submit", "--port", port, "--type", "noop", "--auth-token", "from-file").exit()).isZero();

        final String other = Integer.toString(serve("serve", "--config", config.toString(), "--auth-token", "from-flag",
            "--journal", dir.resolve("other").toString()));
        assertThat(gyre("submit", "--port", other, "--type", "noop", "--auth-token", "from-flag").exit()).isZero();
    }

    /**
     * A server at its connection limit refuses the connection (ERROR TOO_MANY_CONNECTIONS): exit 4 as documented, saying
     * why. An outside check found exit 1 with "no handshake ... within PT4S".
     */
    @Test
    void aServerAtItsConnectionLimitRefusesTheSubmitWithExitFour() throws Exception
    {
        final int port = serve("serve", "--journal", dir.resolve("limited").toString(), "--port", "0", "--max-connections", "1");
        try (io.gyre.ingress.client.GyreClient first = io.gyre.ingress.client.GyreClient.connect(
            io.gyre.ingress.client.ClientConfig.builder().port(port).build()))
        {
            assertThat(first.connected()).as("the server's one connection").isTrue();
            final ch.qos.logback.classic.Logger clientLog =
                (ch.qos.logback.classic.Logger)org.slf4j.LoggerFactory.getLogger(io.gyre.ingress.client.GyreClient.class);
            final ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines = new ch.qos.logback.core.read.ListAppender<>();
            lines.start();
            clientLog.addAppender(lines);
            final Run refused;
            try
            {
                refused = gyre("submit", "--port", Integer.toString(port), "--type", "noop", "--timeout-s", "1");
            }
            finally
            {
                clientLog.detachAppender(lines);
            }
            assertThat(refused.exit()).as(refused.err()).isEqualTo(SubmitCommand.EXIT_REJECTED);
            assertThat(refused.out()).isEmpty();
            assertThat(refused.err()).contains("TOO_MANY_CONNECTIONS");
            // said once, by the command, not also by a WARN of the client's (an outside check saw both on stderr)
            assertThat(lines.list).noneMatch(line -> line.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.WARN));
        }
    }

    @Test
    void aConfigFileThatCannotBeReadCannotStartAndABadValueInItNamesTheFileAndKey() throws Exception
    {
        // README: "It exits 1 when it cannot start (the journal, the port, the config file)"
        final Run missing = gyre("serve", "--config", dir.resolve("nope.properties").toString(), "--journal", dir.resolve("j").toString());
        assertThat(missing.exit()).as(missing.err()).isEqualTo(1);
        assertThat(missing.err()).contains("the config file " + dir.resolve("nope.properties") + " does not exist");
        final Run directory = gyre("serve", "--config", dir.toString(), "--journal", dir.resolve("j").toString());
        assertThat(directory.exit()).as(directory.err()).isEqualTo(1);
        assertThat(directory.err()).contains("the config file " + dir + " is not a file");

        // a value in it that does not parse is still a usage error, named by the file and its key, not by an option not typed
        final Path config = dir.resolve("gyre.properties");
        Files.writeString(config, "port=abc\n");
        final Run notANumber = gyre("serve", "--config", config.toString(), "--journal", dir.resolve("j").toString());
        assertThat(notANumber.exit()).isEqualTo(2);
        assertThat(notANumber.err()).startsWith("gyre serve: config file " + config + ": port=abc: 'abc' is not an int")
            .doesNotContain("option '--port'");
        // given on the command line too, the option's value is the one used: no complaint about the file's
        Files.writeString(config, "port=abc\nmonitor-port=0\n");
        final Run overridden = gyre("serve", "--config", config.toString(), "--journal", dir.resolve("j").toString(), "--port", "-5");
        assertThat(overridden.exit()).isEqualTo(2);
        assertThat(overridden.err()).contains("--port: port=-5").doesNotContain("config file");

        // out of range likewise
        Files.writeString(config, "port=70000\n");
        final Run outOfRange = gyre("serve", "--config", config.toString(), "--journal", dir.resolve("j").toString());
        assertThat(outOfRange.exit()).isEqualTo(2);
        assertThat(outOfRange.err()).startsWith("gyre serve: config file " + config + ": port=70000 must be");
        Files.writeString(config, "admission=90,80\n");
        final Run admission = gyre("serve", "--config", config.toString(), "--journal", dir.resolve("j").toString(), "--port", "0");
        assertThat(admission.exit()).isEqualTo(2);
        assertThat(admission.err()).startsWith("gyre serve: config file " + config + ": admission=90,80: lowPriorityAdmissionPercent=90");
        Files.writeString(config, "journal-min-free=lots\n");
        final Run bytes = gyre("serve", "--config", config.toString(), "--journal", dir.resolve("j").toString(), "--port", "0");
        assertThat(bytes.exit()).isEqualTo(2);
        assertThat(bytes.err()).startsWith("gyre serve: config file " + config + ": journal-min-free=lots is not a byte count");
        Files.writeString(config, "auth-token=\\u12\n");
        final Run malformed = gyre("serve", "--config", config.toString(), "--journal", dir.resolve("j").toString(), "--port", "0");
        assertThat(malformed.exit()).isEqualTo(2);
        assertThat(malformed.err()).startsWith("gyre serve: config file " + config + ": Malformed \\uxxxx encoding");
        assertThat(dir.resolve("j")).doesNotExist();
    }

    @Test
    void aTaskTypeWhoseStartThrowsCannotStartAndTheJournalIsNotBlamed() throws Exception
    {
        // README: "It exits 1 when it cannot start (...; a task type whose start() threw, named)"
        final Path plugins = Files.createDirectories(dir.resolve("plugins"));
        startThrowingPlugin(plugins.resolve("startthrows.jar"));
        final Path journal = dir.resolve("j");
        final Run run = gyre("serve", "--journal", journal.toString(), "--port", "0", "--monitor-port", "0",
            "--plugins", plugins.toString());
        assertThat(run.exit()).as(run.err()).isEqualTo(1);
        assertThat(run.err().lines()).containsExactly("gyre serve: task type startthrows cannot start: start boom");

        // the journal was never the problem: the same directory serves once the plugin is gone
        Files.delete(plugins.resolve("startthrows.jar"));
        final int port = serve("serve", "--journal", journal.toString(), "--port", "0", "--plugins", plugins.toString());
        assertThat(gyre("submit", "--port", Integer.toString(port), "--type", "echo", "--payload", "x", "--key", "k").exit()).isZero();
    }

    /**
     * A plugin jar with one task type, {@code startthrows}, whose {@code start()} throws: compiled here, so that its class
     * is the jar's own and not one on the test's class path (a plugin's types are the classes its jar holds).
     */
    private void startThrowingPlugin(final Path jar) throws Exception
    {
        final Path sources = Files.createDirectories(dir.resolve("plugin-src/p"));
        final Path classes = Files.createDirectories(dir.resolve("plugin-classes"));
        final Path source = Files.writeString(sources.resolve("StartThrows.java"), "package p;\n" +
            "public class StartThrows implements io.gyre.engine.TaskHandler {\n" +
            "    public String type() { return \"startthrows\"; }\n" +
            "    public void start() { throw new RuntimeException(\"start boom\"); }\n" +
            "    public void execute(io.gyre.engine.TaskContext context) { }\n" +
            "}\n");
        final String classPath = location(io.gyre.engine.TaskHandler.class) + java.io.File.pathSeparator +
            location(org.agrona.DirectBuffer.class);
        assertThat(javax.tools.ToolProvider.getSystemJavaCompiler()
            .run(null, null, null, "-d", classes.toString(), "-cp", classPath, source.toString())).isZero();
        try (java.util.jar.JarOutputStream out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar)))
        {
            out.putNextEntry(new java.util.jar.JarEntry("p/StartThrows.class"));
            Files.copy(classes.resolve("p/StartThrows.class"), out);
            out.closeEntry();
            out.putNextEntry(new java.util.jar.JarEntry("META-INF/services/" + io.gyre.engine.TaskHandler.class.getName()));
            out.write("p.StartThrows\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            out.closeEntry();
        }
    }

    private static String location(final Class<?> type) throws java.net.URISyntaxException
    {
        return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }

    @Test
    void badSettingsAreClearErrors() throws Exception
    {
        final Path config = dir.resolve("typo.properties");
        Files.writeString(config, "prot=7071\n");
        final Run typo = gyre("serve", "--config", config.toString());
        assertThat(typo.exit()).isEqualTo(2);
        assertThat(typo.err()).contains("unknown setting 'prot'").contains("port");


        final Run ring = gyre("serve", "--journal", dir.resolve("j").toString(), "--port", "0", "--ring-size", "1000");
        assertThat(ring.exit()).isEqualTo(2);
        assertThat(ring.err()).contains("--ring-size: ringSize=1000");
        assertThat(ring.err().lines()).as("the error and where the options are, not the whole usage text")
            .containsExactly("gyre serve: --ring-size: ringSize=1000 must be a power of two, at least 64", "(gyre serve --help lists the options)");

        final Run admission = gyre("serve", "--journal", dir.resolve("j").toString(), "--port", "0", "--admission", "90,80");
        assertThat(admission.exit()).isEqualTo(2);
        assertThat(admission.err()).contains("--admission: lowPriorityAdmissionPercent=90 must be in [1, normalPriorityAdmissionPercent=80]");

        final Run admissionShape = gyre("serve", "--journal", dir.resolve("j").toString(), "--port", "0", "--admission", "90");
        assertThat(admissionShape.exit()).isEqualTo(2);
        assertThat(admissionShape.err()).contains("--admission: admission=90 must be two percentages");
        final Run admissionFour = gyre("serve", "--journal", dir.resolve("j").toString(), "--port", "0", "--admission", "80,95,70,90");
        assertThat(admissionFour.exit()).isEqualTo(2);
        assertThat(admissionFour.err()).contains("--admission: admission=80,95,70,90 must be two percentages");
        assertThat(ServeCommand.percentages("80%,95%")).containsExactly(80, 95);
        assertThat(ServeCommand.percentages(" 70 , 90 ")).containsExactly(70, 90);

        final Run outage = gyre("serve", "--journal", dir.resolve("j").toString(), "--port", "0", "--stop-after-journal-outage", "soon");
        assertThat(outage.exit()).isEqualTo(2);
        assertThat(outage.err()).contains("Invalid value for option '--stop-after-journal-outage': 'soon' is not a duration");

        final Run outageZero = gyre("serve", "--journal", dir.resolve("j").toString(), "--port", "0", "--stop-after-journal-outage", "0s");
        assertThat(outageZero.exit()).isEqualTo(2);
        assertThat(outageZero.err()).contains("--stop-after-journal-outage: stopAfterJournalOutage=PT0S must be more than 0");

        final Run minFree = gyre("serve", "--journal", dir.resolve("j").toString(), "--port", "0", "--journal-min-free", "lots");
        assertThat(minFree.exit()).isEqualTo(2);
        assertThat(minFree.err()).contains("journal-min-free=lots is not a byte count");

        final Run minFreeSmall = gyre("serve", "--journal", dir.resolve("j").toString(), "--port", "0", "--journal-min-free", "4k");
        assertThat(minFreeSmall.exit()).isEqualTo(2);
        assertThat(minFreeSmall.err()).contains("--journal-min-free: journalMinFreeBytes=4096 must be in [1048576, 2^40]");

        final Run setting = gyre("serve", "--journal", dir.resolve("j").toString(), "--port", "0", "--task", "http.retries=lots");
        assertThat(setting.exit()).isEqualTo(2);
        assertThat(setting.err()).contains("http").contains("retries");

        final Run port = gyre("serve", "--journal", dir.resolve("j").toString(), "--port", "70000");
        assertThat(port.exit()).isEqualTo(2);
        assertThat(port.err()).contains("--port: port=70000");

        // --monitor-port as --port (0 to 65535), and -1 for off: anything else a usage error, not a failure to listen or "off"
        for (final String bad : new String[] {"70000", "65536", "-2", "-70000"})
        {
            final Run monitorPort = gyre("serve", "--journal", dir.resolve("j").toString(), "--port", "0", "--monitor-port", bad);
            assertThat(monitorPort.exit()).as(bad + ": " + monitorPort.err()).isEqualTo(2);
            assertThat(monitorPort.err()).startsWith("gyre serve: --monitor-port: monitorPort=" + bad + " must be in [0, 65535], or -1 for off");
        }

        final Run threads = gyre("serve", "--journal", dir.resolve("j").toString(), "--port", "0", "--pipeline-threads", "3");
        assertThat(threads.exit()).isEqualTo(2);
        assertThat(threads.err()).contains("--pipeline-threads: pipelineThreads=3");
        assertThat(dir.resolve("j")).doesNotExist();

        final int taken = serve("serve", "--journal", dir.resolve("a").toString(), "--port", "0");
        // the monitoring port is chosen by the system, so that only the TCP port can be the one in use
        final Run inUse = gyre("serve", "--journal", dir.resolve("b").toString(), "--port", Integer.toString(taken), "--monitor-port", "0");
        assertThat(inUse.exit()).isEqualTo(1);
        assertThat(inUse.err()).contains("cannot listen on 127.0.0.1:" + taken);
    }
}
