package io.gyre.ingress.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gyre.engine.Backoff;
import io.gyre.engine.Priority;
import io.gyre.ingress.client.GyreClient;
import io.gyre.ingress.client.GyreClientException;
import io.gyre.ingress.client.Submission;
import io.gyre.ingress.client.TaskResult;
import io.gyre.ingress.protocol.ErrorCode;
import io.gyre.ingress.protocol.Frames;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code gyre submit}: submit one task to a running server and print its outcome as JSON.
 */
@Command(
    name = "submit",
    mixinStandardHelpOptions = true,
    versionProvider = GyreCommand.Version.class,
    description = {"Submit a task to a running server, wait for its outcome and print it as JSON.",
        "With --no-wait, print {\"key\":...,\"taskId\":...,\"state\":\"ACCEPTED\"} as soon as the server has journaled it, "
            + "and leave it running (follow it with gyre status or gyre watch, stop it with gyre cancel)."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:the task SUCCEEDED (with --no-wait: accepted, or its recorded outcome is SUCCEEDED)", "1:no answer (cannot connect, timeout)", "2:usage error",
        "3:the task ended otherwise (FAILED, DEAD_LETTERED, TIMED_OUT, CANCELLED)",
        "4:the server refused the submission or the connection (a wrong or missing auth token), or would (a request larger than "
            + "its max frame is not sent)"})
public final class SubmitCommand implements Callable<Integer>
{
    static final int EXIT_NOT_SUCCEEDED = 3;
    static final int EXIT_REJECTED = 4;

    @Spec
    private CommandSpec spec;

    @Mixin
    private ClientOptions server;

    @Option(names = "--type", required = true, description = "Task type (built in: noop, echo, set, inject, transform, wait, http; and any plugin's).")
    private String type;

    @Option(names = "--payload", description = "Payload, as text (UTF-8).")
    private String payload;

    @Option(names = "--payload-file", paramLabel = "FILE", description = "Payload, the bytes of this file (for payloads too large "
        + "or too binary for a command line); instead of --payload.")
    private Path payloadFile;

    @Option(names = "--key", description = "Idempotency key (default: a new random UUID). Submitting a key again returns its recorded outcome.")
    private String key;

    @Option(names = "--priority", defaultValue = "NORMAL", description = "HIGH, NORMAL or LOW (default: ${DEFAULT-VALUE}).")
    private Priority priority;

    @Option(names = "--task-timeout-ms", defaultValue = "0", description = "Timeout of each attempt; 0 for the type's default.")
    private int taskTimeoutMillis;

    @Option(names = "--max-attempts", defaultValue = "0", description = "Attempts in all; 0 for the type's default.")
    private int maxAttempts;

    @Option(names = "--backoff", paramLabel = "INITIAL,MAX,MULTIPLIER,JITTER", description = "Wait between attempts after a "
        + "retryable failure: the first retry waits INITIAL, each next one MULTIPLIER (1 to 100, two decimals) times longer, "
        + "at most MAX, spread by up to JITTER (0 to 1, three decimals) of itself, e.g. 200ms,30s,3,0.1 (more decimals are "
        + "refused, not rounded). Default: the type's, "
        + "else the server's (100ms,60s,2,0.2).")
    private String backoff;

    @Option(names = "--tenant", defaultValue = "", description = "Who the task is for.")
    private String tenant;

    @Option(names = "--no-dead-letter", description = "A task that finally fails ends FAILED (one whose last attempt times "
        + "out, TIMED_OUT) instead of DEAD_LETTERED and the dead-letter list (the protocol's NO_DEAD_LETTER).")
    private boolean noDeadLetter;

    @Option(names = "--no-wait", description = "Return once the task is journaled (accepted), without waiting for its outcome. "
        + "A key whose outcome is already recorded prints that outcome, as without this option.")
    private boolean noWait;

    @Override
    public Integer call()
    {
        final String k = key != null ? key : UUID.randomUUID().toString();
        final byte[] bytes;
        if (payload != null && payloadFile != null)
        {
            throw new ParameterException(spec.commandLine(), "give --payload or --payload-file, not both");
        }
        if (payloadFile != null)
        {
            try
            {
                bytes = Files.readAllBytes(payloadFile);
            }
            catch (final IOException ex)
            {
                throw new ParameterException(spec.commandLine(), "--payload-file " + payloadFile + " cannot be read: " + ex.getMessage());
            }
        }
        else
        {
            bytes = payload == null ? new byte[0] : payload.getBytes(StandardCharsets.UTF_8);
        }
        final Submission submission;
        try
        {
            submission = Submission.of(k, type)
                .payload(bytes)
                .priority(priority)
                .timeoutMillis(taskTimeoutMillis)
                .maxAttempts(maxAttempts)
                .tenant(tenant)
                .deadLetter(!noDeadLetter)
                .backoff(backoff == null ? null : parseBackoff(backoff));
            GyreClient.validate(submission);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ParameterException(spec.commandLine(), withOptionNames(ex.getMessage()));
        }
        try (GyreClient client = server.connect(spec))
        {
            if (noWait)
            {
                return submitWithoutWaiting(client, submission, k);
            }
            final java.util.concurrent.atomic.AtomicLong acceptedAs = new java.util.concurrent.atomic.AtomicLong(-1);
            final TaskResult result;
            try
            {
                result = client.blocking().submit(submission.onAccepted(acceptedAs::set));
            }
            catch (final GyreClientException ex)
            {
                if (acceptedAs.get() < 0)
                {
                    throw ex;
                }
                // journaled, so it runs on: no outcome yet is not the same as no answer
                throw new GyreClientException("task " + acceptedAs.get() + " (key " + k + ") was accepted and runs on, but " +
                    ex.getMessage() + "; follow it with gyre status --key " + k + ", or submit the key again to wait for its outcome");
            }
            spec.commandLine().getOut().println(Json.write(Json.of(result)));
            spec.commandLine().getOut().flush();
            return result.rejected() ? EXIT_REJECTED : result.succeeded() ? 0 : EXIT_NOT_SUCCEEDED;
        }
        catch (final GyreClientException | IllegalArgumentException ex)
        {
            spec.commandLine().getErr().println("gyre submit: " + ex.getMessage());
            // the server refused to take it (or would have): not a missing answer
            return ex instanceof GyreClientException g && (g.code() == ErrorCode.FRAME_TOO_LARGE || g.code() == ErrorCode.AUTH_FAILED ||
                g.code() == ErrorCode.TOO_MANY_CONNECTIONS) ? EXIT_REJECTED : ReplayCommand.EXIT_ERROR;
        }
    }

    /**
     * @throws IllegalArgumentException naming what is wrong with a {@code --backoff} value.
     */
    static Backoff parseBackoff(final String value)
    {
        final String[] parts = value.split(",", -1);
        if (parts.length != 4)
        {
            throw new IllegalArgumentException("--backoff '" + value + "' must be INITIAL,MAX,MULTIPLIER,JITTER, e.g. 200ms,30s,3,0.1");
        }
        final long initial;
        final long max;
        final float multiplier;
        final float jitter;
        try
        {
            initial = ServeCommand.DurationConverter.parse(parts[0]).toMillis();
            max = ServeCommand.DurationConverter.parse(parts[1]).toMillis();
        }
        catch (final CommandLine.TypeConversionException | ArithmeticException ex)
        {
            throw new IllegalArgumentException("--backoff '" + value + "': " + ex.getMessage());
        }
        try
        {
            multiplier = Float.parseFloat(parts[2].trim());
            jitter = Float.parseFloat(parts[3].trim());
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("--backoff '" + value + "': MULTIPLIER and JITTER must be numbers, e.g. 3 and 0.1");
        }
        if (initial > Integer.MAX_VALUE || max > Integer.MAX_VALUE)
        {
            throw new IllegalArgumentException("--backoff '" + value + "': INITIAL and MAX must be at most " + Integer.MAX_VALUE + " ms");
        }
        final Backoff parsed;
        try
        {
            parsed = new Backoff((int)initial, (int)max, multiplier, jitter);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IllegalArgumentException("--backoff '" + value + "': " + ex.getMessage());
        }
        // the wire carries hundredths of the multiplier and thousandths of the jitter: refuse what it would round
        String problem = tooManyDecimals("backoffMultiplier", parts[2], 2, "hundredths of a multiplier (e.g. 1.5, 2.25)");
        if (problem == null)
        {
            problem = tooManyDecimals("backoffJitter", parts[3], 3, "thousandths of a jitter (e.g. 0.1, 0.125)");
        }
        if (problem == null)
        {
            problem = Frames.retryPolicyPrecisionProblem(parsed);
        }
        if (problem != null)
        {
            throw new IllegalArgumentException("--backoff '" + value + "': " + problem);
        }
        return parsed;
    }

    /**
     * @return what is wrong with a decimal written with more decimals than allowed ({@code 1.0001}, which a float
     * would take as 1), or null (also for a number BigDecimal does not read, which the float check covers).
     */
    private static String tooManyDecimals(final String field, final String text, final int decimals, final String unit)
    {
        try
        {
            final java.math.BigDecimal number = new java.math.BigDecimal(text.trim());
            return number.stripTrailingZeros().scale() <= decimals ? null :
                field + "=" + text.trim() + " has more than " + (decimals == 2 ? "two" : "three") + " decimals: the retry policy is sent in " + unit;
        }
        catch (final NumberFormatException ex)
        {
            return null;
        }
    }

    /** The client's check names the submission's fields; the command line knows them as its options. */
    private static String withOptionNames(final String message)
    {
        return message.replaceFirst("^timeoutMillis=", "--task-timeout-ms=").replaceFirst("^maxAttempts=", "--max-attempts=")
            .replaceFirst("^type ", "--type ").replaceFirst("^tenant ", "--tenant ").replaceFirst("^key ", "--key ");
    }

    /**
     * Submit, and answer with whichever comes first: the server's ACCEPTED (the task is journaled and runs on
     * without this client), or its RESULT (a key whose outcome was recorded, a refusal, or a task that finished
     * at once).
     */
    private int submitWithoutWaiting(final GyreClient client, final Submission submission, final String k)
    {
        final CompletableFuture<Long> accepted = new CompletableFuture<>();
        final CompletableFuture<TaskResult> result = client.submit(submission.onAccepted(accepted::complete));
        final Object first;
        try
        {
            first = CompletableFuture.anyOf(accepted, result).get(server.timeoutSeconds, TimeUnit.SECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new GyreClientException("interrupted while waiting for the server to accept the task");
        }
        catch (final TimeoutException ex)
        {
            throw new GyreClientException("no answer from the server within " + server.timeoutSeconds + " s");
        }
        catch (final ExecutionException ex)
        {
            throw ex.getCause() instanceof GyreClientException g ? g : new GyreClientException(String.valueOf(ex.getCause().getMessage()));
        }
        if (first instanceof TaskResult outcome)
        {
            spec.commandLine().getOut().println(Json.write(Json.of(outcome)));
            spec.commandLine().getOut().flush();
            return outcome.rejected() ? EXIT_REJECTED : outcome.succeeded() ? 0 : EXIT_NOT_SUCCEEDED;
        }
        final ObjectNode out = Json.MAPPER.createObjectNode();
        out.put("key", k);
        out.put("taskId", (Long)first);
        out.put("state", "ACCEPTED");
        spec.commandLine().getOut().println(Json.write(out));
        spec.commandLine().getOut().flush();
        return 0;
    }
}
