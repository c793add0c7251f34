package io.gyre.tasks.wait;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import io.gyre.engine.TaskContext;
import io.gyre.engine.TaskFailure;
import io.gyre.engine.TaskHandler;
import io.gyre.tasks.json.JsonErrors;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Iterator;

/**
 * {@code wait}: succeeds at a time, given as an ISO-8601 duration from the task's submission ({@code PT2S})
 * or as an absolute instant ({@code 2026-11-23T12:00:00Z}). The payload is that text, bare or as a JSON
 * string, or a JSON object {@code {"duration": "PT2S"}} or {@code {"until": "2026-11-23T12:00:00Z"}}.
 * <p>
 * Nothing waits on a thread: the attempt runs inline, computes the deadline and asks the engine to hold its
 * outcome until then ({@link TaskContext#holdUntil}); the deadline is journaled with the result, so after
 * a restart the task still completes at its original time. A pending wait costs the engine its task record
 * and one timer entry. The deadline counts from the submission (journaled), not from the attempt, so a
 * retried or re-run attempt keeps it.
 * <p>
 * Output: {@code {"until":"2026-11-23T12:00:02Z"}}, the deadline.
 */
public final class WaitHandler implements TaskHandler
{
    /** The longest wait accepted. */
    public static final Duration MAX_WAIT = Duration.ofDays(3650);
    /** The largest payload read: a duration or an instant, in a JSON object at most, needs a few dozen bytes. */
    public static final int MAX_PAYLOAD_BYTES = 1024;

    /** Strict as the other JSON types: a duplicate member or anything after the value is an error, not ignored. */
    private static final ObjectReader JSON = new ObjectMapper().reader()
        .with(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
        .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    @Override
    public String type()
    {
        return "wait";
    }

    @Override
    public void validate(final TaskContext context) throws TaskFailure
    {
        deadline(context);
    }

    @Override
    public void execute(final TaskContext context) throws TaskFailure
    {
        final Instant until = deadline(context);
        // an instant already past completes at once: held until the submission, a time in nanoseconds whatever the
        // instant (one before 1677 has none: it overflowed to a time centuries ahead, an outside check found)
        final long submittedAt = context.submittedAt();
        final Instant submitted = Instant.ofEpochSecond(0, submittedAt);
        context.holdUntil(until.isAfter(submitted) ? Math.addExact(Math.multiplyExact(until.getEpochSecond(), 1_000_000_000L), until.getNano()) :
            submittedAt);
        context.succeed(("{\"until\":\"" + until + "\"}").getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * @return when the task completes.
     * @throws TaskFailure (permanent) naming the field when the payload says nothing usable.
     */
    static Instant deadline(final TaskContext context) throws TaskFailure
    {
        if (context.payloadLength() > MAX_PAYLOAD_BYTES)
        {
            // read on the ring's thread (wait runs inline): a megabyte would hold every task behind it, for an error
            throw TaskFailure.permanent("payload: " + context.payloadLength() + " bytes; a wait payload is a duration or an instant, at most " +
                MAX_PAYLOAD_BYTES + " bytes");
        }
        final io.gyre.tasks.json.Utf8.Bytes bytes = io.gyre.tasks.json.Utf8.Bytes.of(context.payload(), context.payloadLength());
        final int illFormed = io.gyre.tasks.json.Utf8.firstInvalid(bytes.array(), bytes.offset(), context.payloadLength());
        if (illFormed >= 0)
        {
            // decoded, it would be read with U+FFFD in place of the bytes, and the message would show that instead
            throw TaskFailure.permanent("payload: " + io.gyre.tasks.json.Utf8.problem(bytes.array(), bytes.offset(), context.payloadLength(),
                illFormed));
        }
        final String payload = context.payload().getStringWithoutLengthUtf8(0, context.payloadLength());
        // a byte order mark first is ignored, as the JSON types ignore one (there only, as there)
        int start = !payload.isEmpty() && payload.charAt(0) == '\uFEFF' ? 1 : 0;
        int end = payload.length();
        while (start < end && blank(payload.charAt(start)))
        {
            start++;
        }
        while (end > start && blank(payload.charAt(end - 1)))
        {
            end--;
        }
        final String text = payload.substring(start, end);
        final Instant submitted = Instant.ofEpochSecond(0, context.submittedAt());
        if (text.isEmpty())
        {
            throw TaskFailure.permanent("payload: empty; give a duration (PT2S) or an instant (2026-11-23T12:00:00Z)");
        }
        if (text.charAt(0) == '{' || text.charAt(0) == '"')
        {
            final JsonNode node;
            try
            {
                node = JSON.readTree(text);
            }
            catch (final JsonProcessingException ex)
            {
                throw TaskFailure.permanent("payload: not valid JSON: " + JsonErrors.plain(ex.getOriginalMessage()));
            }
            if (node.isTextual())
            {
                return fromText("payload", printable("payload", node.asText(), 0, node.asText().length()), submitted);
            }
            for (final Iterator<String> names = node.fieldNames(); names.hasNext(); )
            {
                final String name = names.next();
                if (!name.equals("duration") && !name.equals("until"))
                {
                    throw TaskFailure.permanent(JsonErrors.fieldName(name) + ": unknown field of a wait payload (duration, until)");
                }
            }
            final JsonNode duration = node.get("duration");
            final JsonNode until = node.get("until");
            if ((duration == null) == (until == null))
            {
                throw TaskFailure.permanent("payload: give exactly one of \"duration\" (PT2S) and \"until\" (2026-11-23T12:00:00Z)");
            }
            final String field = duration != null ? "duration" : "until";
            final JsonNode value = duration != null ? duration : until;
            if (!value.isTextual())
            {
                throw TaskFailure.permanent(field + ": must be a string, not " + value.getNodeType().name().toLowerCase());
            }
            final String given = printable(field, value.asText(), 0, value.asText().length());
            return duration != null ? afterDuration(field, given, submitted) : instant(field, given);
        }
        printable("payload", payload, start, end);
        return fromText("payload", text, submitted);
    }

    /**
     * @return whether the character is whitespace that may surround the payload, JSON's: space, tab, line feed,
     *     carriage return. Any other control character is refused ({@link #printable}).
     */
    private static boolean blank(final char c)
    {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
    }

    /**
     * A duration or an instant has no control character (U+0000 to U+001F, U+007F to U+009F): one there was cut
     * off with the whitespace around the payload ({@code PT1S} and a NUL succeeded) while one inside failed, so
     * every one is refused, with where it is.
     *
     * @param from the index of the text to look from (what is before it is whitespace around the payload, allowed).
     * @param to the index after the last character to look at (what is after it is whitespace too).
     * @return the text.
     * @throws TaskFailure (permanent) naming the field and the first control character, by its index in the text.
     */
    private static String printable(final String field, final String text, final int from, final int to) throws TaskFailure
    {
        for (int i = from; i < to; i++)
        {
            final char c = text.charAt(i);
            if (Character.isISOControl(c))
            {
                throw TaskFailure.permanent(field + ": " + String.format("U+%04X", (int)c) + " at index " + i +
                    " is a control character; give a duration (PT2S) or an instant (2026-11-23T12:00:00Z)");
            }
        }
        return text;
    }

    private static Instant fromText(final String field, final String text, final Instant submitted) throws TaskFailure
    {
        return text.startsWith("P") || text.startsWith("p") || text.startsWith("-P") ?
            afterDuration(field, text, submitted) : instant(field, text);
    }

    private static Instant afterDuration(final String field, final String text, final Instant submitted) throws TaskFailure
    {
        final Duration duration;
        try
        {
            duration = Duration.parse(text);
        }
        catch (final DateTimeParseException ex)
        {
            throw TaskFailure.permanent(field + ": " + JsonErrors.quote(text) + " is not an ISO-8601 duration in days, hours, minutes and seconds " +
                "(e.g. PT2S, PT1M30S, P1D; years, months and weeks are not taken)");
        }
        if (duration.isNegative())
        {
            throw TaskFailure.permanent(field + ": " + JsonErrors.quote(text) + " is negative");
        }
        if (duration.compareTo(MAX_WAIT) > 0)
        {
            throw TaskFailure.permanent(field + ": " + JsonErrors.quote(text) + " is longer than the longest wait, " + MAX_WAIT.toDays() + " days");
        }
        return submitted.plus(duration);
    }

    private static Instant instant(final String field, final String text) throws TaskFailure
    {
        try
        {
            final Instant until = Instant.parse(text);
            if (until.isAfter(Instant.now().plus(MAX_WAIT)))
            {
                throw TaskFailure.permanent(field + ": " + JsonErrors.quote(text) + " is further away than the longest wait, " + MAX_WAIT.toDays() + " days");
            }
            return until;
        }
        catch (final DateTimeParseException ex)
        {
            throw TaskFailure.permanent(field + ": " + JsonErrors.quote(text) +
                " is neither an ISO-8601 duration (PT2S) nor an instant in UTC (2026-11-23T12:00:00Z)");
        }
    }
}
