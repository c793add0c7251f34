package io.gyre.tasks.wait;

import io.gyre.engine.Outcome;
import io.gyre.engine.TaskRequest;
import io.gyre.engine.TaskState;
import io.gyre.engine.testing.EngineTestSupport;
import io.gyre.engine.testing.TaskHistory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;

import static io.gyre.engine.TaskState.PENDING;
import static io.gyre.engine.TaskState.RUNNING;
import static io.gyre.engine.TaskState.SUCCEEDED;
import static io.gyre.engine.testing.TaskHistoryAssert.assertThat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class WaitHandlerTest extends EngineTestSupport
{
    private void open()
    {
        open(b -> b.handler(new WaitHandler()));
    }

    /** The engine's own clock, which decides when a held outcome is due (the wall clock may differ from it). */
    private long engineNow()
    {
        return engine.config().clock().nanoTime();
    }

    private static Instant instant(final long epochNanos)
    {
        return Instant.ofEpochSecond(0, epochNanos);
    }

    @Test
    void shouldCompleteADurationAfterTheSubmission() throws Exception
    {
        open();
        final CompletableFuture<Outcome> waiting = engine.submit(new TaskRequest().key("d").type("wait").payload("PT0.4S"));
        await().until(() -> engine.status("d").get().state() == RUNNING);
        final Outcome o = get(waiting);

        assertThat(o.state()).isEqualTo(SUCCEEDED);
        assertThat(o.finishedAt()).isEqualTo(o.submittedAt() + 400_000_000L);
        assertThat(o.outputAsString()).isEqualTo("{\"until\":\"" + instant(o.finishedAt()) + "\"}");
        assertThat(engineNow()).as("not released before its time").isGreaterThanOrEqualTo(o.finishedAt());
    }

    @Test
    void shouldCompleteAtAnInstantGivenAsJson() throws Exception
    {
        open();
        final Instant until = Instant.now().plusMillis(300);
        final Outcome o = get(engine.submit(new TaskRequest().key("u").type("wait").payload("{\"until\":\"" + until + "\"}")));
        assertThat(instant(o.finishedAt())).isEqualTo(until);
        assertThat(engineNow()).as("not released before its time").isGreaterThanOrEqualTo(o.finishedAt());
        final Outcome d = get(engine.submit(new TaskRequest().key("j").type("wait").payload("{\"duration\":\"PT0.1S\"}")));
        assertThat(d.finishedAt()).isEqualTo(d.submittedAt() + 100_000_000L);
        final Outcome s = get(engine.submit(new TaskRequest().key("s").type("wait").payload("\"PT0.05S\"")));
        assertThat(s.finishedAt()).isEqualTo(s.submittedAt() + 50_000_000L);
    }

    @Test
    void shouldCompleteAnInstantInThePastAtOnce() throws Exception
    {
        open();
        final Outcome o = get(engine.submit(new TaskRequest().key("p").type("wait").payload("2020-01-01T00:00:00Z")));
        assertThat(o.state()).isEqualTo(SUCCEEDED);
        assertThat(o.outputAsString()).isEqualTo("{\"until\":\"2020-01-01T00:00:00Z\"}");
        // before 1677-09-21T00:12:43.145224192Z an instant has no time in nanoseconds since 1970: it was held until one
        // centuries ahead (an outside check); however long ago, it completes at once
        for (final String past : new String[] {"1677-09-21T00:12:43.145224191Z", "1600-01-01T00:00:00Z", "1000-01-01T00:00:00Z",
            "{\"until\":\"1677-01-01T00:00:00Z\"}", "-999999999-01-01T00:00:00Z"})
        {
            final Outcome old = get(engine.submit(new TaskRequest().key("p" + past).type("wait").payload(past)));
            assertThat(old.state()).as(past).isEqualTo(SUCCEEDED);
            assertThat(old.finishedAt()).as(past).isLessThanOrEqualTo(engineNow());
        }
    }

    /** A wait runs inline: a payload no duration or instant needs is refused before it is read (1 MB held the ring). */
    @Test
    void shouldRefuseAPayloadLargerThanAnyDurationOrInstantNeedsBeforeReadingIt() throws Exception
    {
        open();
        final Outcome big = get(engine.submit(new TaskRequest().key("big").type("wait").payload("{\"duration\":\"PT0S\",\"x\":\"" +
            "y".repeat(1 << 19) + "\"}")));
        assertThat(big.state()).isIn(TaskState.FAILED, TaskState.DEAD_LETTERED);
        assertThat(big.error()).isEqualTo("invalid input: payload: " + ((1 << 19) + 26) + " bytes; a wait payload is a duration or an instant, at most 1024 bytes");
        final String justFits = "{\"duration\":\"PT0S\"}" + " ".repeat(1024 - 19);
        assertThat(get(engine.submit(new TaskRequest().key("fits").type("wait").payload(justFits))).state()).isEqualTo(SUCCEEDED);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "P2X|invalid input: payload: \"P2X\" is not an ISO-8601 duration in days, hours, minutes and seconds (e.g. PT2S, PT1M30S, P1D; years, months and weeks are not taken)",
        "P1Y|invalid input: payload: \"P1Y\" is not an ISO-8601 duration in days, hours, minutes and seconds (e.g. PT2S, PT1M30S, P1D; years, months and weeks are not taken)",
        "-PT1S|invalid input: payload: \"-PT1S\" is negative",
        "tomorrow|invalid input: payload: \"tomorrow\" is neither an ISO-8601 duration (PT2S) nor an instant in UTC (2026-11-23T12:00:00Z)",
        "{\"duration\":5}|invalid input: duration: must be a string, not number",
        "{\"duration\":\"PT1S\",\"until\":\"2030-01-01T00:00:00Z\"}|invalid input: payload: give exactly one of \"duration\" (PT2S) and \"until\" (2026-11-23T12:00:00Z)",
        "{\"until\":\"soon\"}|invalid input: until: \"soon\" is neither an ISO-8601 duration (PT2S) nor an instant in UTC (2026-11-23T12:00:00Z)",
        "P99999D|invalid input: payload: \"P99999D\" is longer than the longest wait, 3650 days",
        "{oops|invalid input: payload: not valid JSON: ",
        "{\"duration\":\"PT1S\"} trailing|invalid input: payload: not valid JSON: ",
        "{\"duration\":\"PT1S\",\"duration\":\"PT2S\"}|invalid input: payload: not valid JSON: member 'duration' appears twice",
        "{\"until\":\"2020-01-01T00:00:00Z\",\"tyop\":\"PT1H\"}|invalid input: tyop: unknown field of a wait payload (duration, until)"})
    void shouldFailABadPayloadPermanentlyNamingTheField(final String payload, final String error) throws Exception
    {
        open();
        final Outcome o = get(engine.submit(new TaskRequest().key("bad").type("wait").payload(payload).maxAttempts(3)));
        assertThat(o.state()).isIn(TaskState.FAILED, TaskState.DEAD_LETTERED);
        assertThat(o.attempts()).isEqualTo(1);
        assertThat(o.error()).startsWith(error);
        assertThat(get(engine.submit(new TaskRequest().key("good").type("wait").payload("PT0S"))).state()).isEqualTo(SUCCEEDED);
    }

    /**
     * The payload was trimmed of every character up to U+0020, so a control character before or after a duration
     * was dropped ({@code PT1S} and a NUL, or U+0001 U+0002 PT1S U+001F, succeeded) while one inside it failed. An
     * outside check found it. JSON's whitespace around the payload is still ignored; a control character anywhere,
     * in a JSON string too, fails the task permanently, saying which and where.
     */
    @Test
    void shouldRefuseControlCharactersAroundOrInAPayload() throws Exception
    {
        open();
        final String[][] refused = {
            {"PT1S\u0000", "invalid input: payload: U+0000 at index 4 is a control character; give a duration (PT2S) or an instant (2026-11-23T12:00:00Z)"},
            {"\u0001\u0002PT1S\u001f", "invalid input: payload: U+0001 at index 0 is a control character; give a duration (PT2S) or an instant (2026-11-23T12:00:00Z)"},
            {" \tPT1S\u000b\n", "invalid input: payload: U+000B at index 6 is a control character; give a duration (PT2S) or an instant (2026-11-23T12:00:00Z)"},
            {"2030-01-01T00:00:00Z\u007f", "invalid input: payload: U+007F at index 20 is a control character; give a duration (PT2S) or an instant (2026-11-23T12:00:00Z)"},
            {"PT1S\u0000garbage", "invalid input: payload: U+0000 at index 4 is a control character; give a duration (PT2S) or an instant (2026-11-23T12:00:00Z)"},
            {"\"PT1S\\u0000\"", "invalid input: payload: U+0000 at index 4 is a control character; give a duration (PT2S) or an instant (2026-11-23T12:00:00Z)"},
            {"{\"duration\":\"\\u001fPT1S\"}", "invalid input: duration: U+001F at index 0 is a control character; give a duration (PT2S) or an instant (2026-11-23T12:00:00Z)"},
            {"{\"duration\":\"PT1S\"}\u0000", "invalid input: payload: not valid JSON: "}};
        for (int i = 0; i < refused.length; i++)
        {
            final Outcome o = get(engine.submit(new TaskRequest().key("refused" + i).type("wait").payload(refused[i][0]).maxAttempts(3)));
            assertThat(o.state()).as("%s", refused[i][1]).isIn(TaskState.FAILED, TaskState.DEAD_LETTERED);
            assertThat(o.attempts()).isEqualTo(1);
            assertThat(o.error()).startsWith(refused[i][1]);
        }
        final String[] blank = {" PT0S", "PT0S\r\n", "\t\"PT0S\"\n", " {\"duration\":\"PT0S\"} ", "\uFEFFPT0S", "\uFEFF{\"duration\":\"PT0S\"}"};
        for (int i = 0; i < blank.length; i++)
        {
            assertThat(get(engine.submit(new TaskRequest().key("blank" + i).type("wait").payload(blank[i]))).state()).isEqualTo(SUCCEEDED);
        }
    }

    /** Bytes that are not UTF-8 fail naming their offset, not as the U+FFFD they would decode to. */
    @Test
    void shouldRefuseAPayloadThatIsNotUtf8NamingTheByte() throws Exception
    {
        open();
        final byte[] payload = {'P', 'T', (byte)0xC0, (byte)0xAF, 'S'};
        final Outcome o = get(engine.submit(new TaskRequest().key("not-utf8").type("wait").payload(payload)));
        assertThat(o.state()).isIn(TaskState.FAILED, TaskState.DEAD_LETTERED);
        assertThat(o.error()).isEqualTo("invalid input: payload: invalid UTF-8 at byte offset 2: 0xC0 0xAF is an overlong encoding of U+002F");
    }

    @Test
    void shouldCompleteAtTheOriginalDeadlineAfterARestart() throws Exception
    {
        // a stop waits for a wait due before its deadline: this one is due after it
        open(b -> b.handler(new WaitHandler()).closeTimeout(Duration.ofMillis(200)));
        final CompletableFuture<Outcome> waiting = engine.submit(new TaskRequest().key("r").type("wait").payload("PT1.5S"));
        await().until(() -> engine.status("r").get().state() == RUNNING);
        assertThat(engine.stop().held()).isEqualTo(1);
        // the stop's last answer: not an outcome, the task carries on after the next open
        assertThat(waiting).isCompletedExceptionally();
        assertThat(waiting.handle((outcome, failure) -> failure).join()).isInstanceOf(io.gyre.engine.TaskUnfinishedException.class);

        open();
        final Outcome o = get(engine.submit(new TaskRequest().key("r").type("wait").payload("PT1.5S")));
        assertThat(o.state()).isEqualTo(SUCCEEDED);
        assertThat(o.finishedAt()).isEqualTo(o.submittedAt() + 1_500_000_000L);
        assertThat(engineNow()).as("not released before its time").isGreaterThanOrEqualTo(o.finishedAt());
        assertThat(closeAndReplay()).task(o.taskId()).hasStates(PENDING, RUNNING, SUCCEEDED).replaysDeterministically();
    }
}
