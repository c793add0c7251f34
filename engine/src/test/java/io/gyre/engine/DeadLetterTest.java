package io.gyre.engine;

import io.gyre.engine.testing.EngineTestSupport;
import io.gyre.engine.testing.TaskHistory;
import io.gyre.journal.Journal;
import io.gyre.journal.JournalConfig;
import io.gyre.journal.JournalWriter;
import io.gyre.journal.RecordType;
import io.gyre.journal.RedriveRequestedRecord;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.gyre.engine.TaskState.DEAD_LETTERED;
import static io.gyre.engine.TaskState.FAILED;
import static io.gyre.engine.TaskState.PENDING;
import static io.gyre.engine.TaskState.RETRY_WAIT;
import static io.gyre.engine.TaskState.RUNNING;
import static io.gyre.engine.TaskState.SUCCEEDED;
import static io.gyre.engine.TaskState.TIMED_OUT;
import static io.gyre.engine.testing.TaskHistoryAssert.assertThat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The dead-letter list through the engine's API: what is dead-lettered and what it keeps; list, show,
 * redrive and purge with their errors; the bound; and the list rebuilt by replay, a redrive journaled
 * before a crash included.
 */
class DeadLetterTest extends EngineTestSupport
{
    /** INLINE: fails permanently while {@link #failing}, otherwise echoes its payload. */
    static final class Switch implements TaskHandler
    {
        volatile boolean failing = true;

        @Override
        public String type()
        {
            return "switch";
        }

        @Override
        public void execute(final TaskContext context)
        {
            if (failing)
            {
                context.fail(false, "refused " + context.payload().getStringWithoutLengthUtf8(0, context.payloadLength()));
                return;
            }
            context.succeed(context.payload(), 0, context.payloadLength());
        }
    }

    private final Switch sw = new Switch();

    private static <T> T answer(final CompletableFuture<T> future) throws Exception
    {
        return future.get(15, TimeUnit.SECONDS);
    }

    private Outcome dead(final String key) throws Exception
    {
        final Outcome outcome = get(engine.submit(new TaskRequest().key(key).type("switch").payload("p-" + key)));
        assertThat(outcome.state()).isEqualTo(DEAD_LETTERED);
        return outcome;
    }

    private List<DeadLetter> all() throws Exception
    {
        return answer(engine.deadLetters(0, Engine.MAX_DEAD_LETTER_PAGE)).letters();
    }

    @Test
    void shouldListAndShowADeadLetterWithItsRequestAndLastError() throws Exception
    {
        open(b -> b.handler(sw));
        final Outcome outcome = get(engine.submit(new TaskRequest().key("order-7").type("switch").payload("{\"x\":1}")
            .tenant("acme").priority(Priority.HIGH).timeoutMillis(4321).maxAttempts(5)));
        assertThat(outcome.state()).isEqualTo(DEAD_LETTERED);
        assertThat(outcome.error()).isEqualTo("refused {\"x\":1}");

        final DeadLetterPage page = answer(engine.deadLetters(0, 10));
        assertThat(page.total()).isEqualTo(1);
        assertThat(page.more()).isFalse();
        assertThat(page.letters()).hasSize(1);
        final DeadLetter letter = page.letters().get(0);
        assertThat(letter.cursor()).isEqualTo(1);
        assertThat(page.nextCursor()).isEqualTo(1);
        assertThat(letter.taskId()).isEqualTo(outcome.taskId());
        assertThat(letter.keyAsString()).isEqualTo("order-7");
        assertThat(letter.type()).isEqualTo("switch");
        assertThat(letter.reason()).isEqualTo(DeadLetterReason.PERMANENT_FAILURE);
        assertThat(letter.attempts()).isEqualTo(1);
        assertThat(letter.error()).isEqualTo("refused {\"x\":1}");
        assertThat(letter.submittedAt()).isEqualTo(outcome.submittedAt());
        assertThat(letter.deadLetteredAt()).isEqualTo(outcome.finishedAt());

        final DeadLetterDetails details = answer(engine.deadLetter("order-7")).orElseThrow();
        assertThat(details.letter()).isEqualTo(letter);
        assertThat(details.priority()).isEqualTo(Priority.HIGH);
        assertThat(new String(details.tenant(), StandardCharsets.UTF_8)).isEqualTo("acme");
        assertThat(details.timeoutMillis()).isEqualTo(4321);
        assertThat(details.maxAttempts()).isEqualTo(5);
        assertThat(new String(details.payload(), StandardCharsets.UTF_8)).isEqualTo("{\"x\":1}");

        assertThat(answer(engine.deadLetter("nobody"))).isEmpty();
        assertThat(engine.deadLetterCount()).isEqualTo(1);
        final TaskHistory history = closeAndReplay();
        assertThat(history).task(outcome.taskId()).hasStates(PENDING, RUNNING, DEAD_LETTERED).replaysDeterministically();
        assertThat(history.report().deadLetters()).isEqualTo(1);
    }

    @Test
    void shouldDeadLetterAFinalTimeoutUnlessDeadLetteringIsOff() throws Exception
    {
        final TestHandlers.Stuck stuck = new TestHandlers.Stuck(1);
        open(b -> b.handler(stuck));
        final Outcome timedOut = get(engine.submit(new TaskRequest().key("t").type("stuck").timeoutMillis(100).maxAttempts(1)));
        final Outcome kept = get(engine.submit(new TaskRequest().key("u").type("stuck").timeoutMillis(100).maxAttempts(1).deadLetter(false)));

        assertThat(timedOut.state()).isEqualTo(DEAD_LETTERED);
        assertThat(timedOut.error()).isEqualTo("attempt 1 timed out after 100 ms");
        assertThat(kept.state()).isEqualTo(TIMED_OUT);
        final DeadLetter letter = all().get(0);
        assertThat(all()).hasSize(1);
        assertThat(letter.keyAsString()).isEqualTo("t");
        assertThat(letter.reason()).isEqualTo(DeadLetterReason.TIMED_OUT);
        assertThat(letter.error()).isEqualTo("attempt 1 timed out after 100 ms");
        assertThat(engine.status("t").get(5, TimeUnit.SECONDS).outcome().error()).isEqualTo("attempt 1 timed out after 100 ms");

        // attempts after the first of the stuck type succeed: the redriven task's does
        assertThat(answer(engine.redrive("t")).outcome()).isEqualTo(RedriveOutcome.REDRIVEN);
        await().until(() -> engine.status("t").join().state() == SUCCEEDED);
        assertThat(engine.status("t").join().outcome().outputAsString()).isEqualTo("finally");

        final TaskHistory history = closeAndReplay();
        assertThat(history).task(timedOut.taskId()).hasStates(PENDING, RUNNING, DEAD_LETTERED, RETRY_WAIT, RUNNING, SUCCEEDED)
            .replaysDeterministically();
        assertThat(history).task(kept.taskId()).hasStates(PENDING, RUNNING, TIMED_OUT);
        assertThat(history.report().recordsByType()).containsEntry(RecordType.TIMED_OUT, 2L).containsEntry(RecordType.DEAD_LETTERED, 1L);
    }

    @Test
    void shouldRedriveUnderTheSameKeyAndTaskIdWithAFreshBudgetAndReplaceTheOutcome() throws Exception
    {
        final TestHandlers.Flaky flaky = new TestHandlers.Flaky("flaky", 2, true, ExecutionMode.INLINE);
        open(b -> b.handler(flaky));
        final Outcome first = get(engine.submit(new TaskRequest().key("k").type("flaky").maxAttempts(2).backoff(5, 5, 1f, 0f)));
        assertThat(first.state()).isEqualTo(DEAD_LETTERED);
        assertThat(first.attempts()).isEqualTo(2);
        assertThat(all().get(0).reason()).isEqualTo(DeadLetterReason.ATTEMPTS_EXHAUSTED);

        final RedriveResult redriven = answer(engine.redrive("k"));
        assertThat(redriven.redriven()).isTrue();
        assertThat(redriven.taskId()).isEqualTo(first.taskId());
        assertThat(redriven.state()).isEqualTo(RETRY_WAIT);
        assertThat(redriven.attempts()).isEqualTo(2);
        assertThat(redriven.maxAttempts()).isEqualTo(4);
        assertThat(redriven.message()).isEqualTo("task " + first.taskId() + " of key k redriven: attempts 3 to 4 may run");
        assertThat(all()).as("a redriven task leaves the list").isEmpty();

        await().until(() -> engine.status("k").join().state() == SUCCEEDED);
        final Outcome again = get(engine.submit(new TaskRequest().key("k").type("flaky")));
        assertThat(again.duplicate()).isTrue();
        assertThat(again.taskId()).isEqualTo(first.taskId());
        assertThat(again.state()).as("the new outcome replaced the old one").isEqualTo(SUCCEEDED);
        assertThat(again.attempts()).isEqualTo(3);
        assertThat(again.outputAsString()).isEqualTo("ok after 3");
        assertThat(again.submittedAt()).isEqualTo(first.submittedAt());
        assertThat(flaky.attempts).hasValue(3);

        final TaskHistory history = closeAndReplay();
        assertThat(history).task(first.taskId())
            .hasStates(PENDING, RUNNING, RETRY_WAIT, RUNNING, DEAD_LETTERED, RETRY_WAIT, RUNNING, SUCCEEDED)
            .replaysDeterministically();
        assertThat(history.report().recordsByType()).containsEntry(RecordType.REDRIVE_REQUESTED, 1L)
            .containsEntry(RecordType.RETRY_SCHEDULED, 2L);
        assertThat(history.report().tasksByState()).containsExactly(java.util.Map.entry(SUCCEEDED, 1L));
        assertThat(history.report().deadLetters()).isZero();
    }

    @Test
    void shouldJoinARedrivenTaskWhenItsKeyIsSubmitted() throws Exception
    {
        open(b -> b.handler(sw));
        final Outcome first = dead("k");
        sw.failing = false;
        final RedriveResult redriven = answer(engine.redrive("k"));
        final CompletableFuture<Outcome> joined = engine.submit(new TaskRequest().key("k").type("switch").payload("ignored"));
        assertThat(redriven.redriven()).isTrue();
        final Outcome outcome = get(joined);
        assertThat(outcome.taskId()).isEqualTo(first.taskId());
        assertThat(outcome.state()).isEqualTo(SUCCEEDED);
        assertThat(outcome.outputAsString()).as("the original payload ran").isEqualTo("p-k");
    }

    /**
     * A redriven task's earlier outcome is forgotten at once; it must not go on taking one of the
     * maxRetainedOutcomes places until its turn (outside check: with a limit of 3, B, then A dead-lettered,
     * redriven and dead-lettered again, then C: B was forgotten after three keys had finished, and ran twice).
     * The same after a restart, whose replay decides as the engine did.
     */
    @Test
    void shouldNotCountARedrivenTasksEarlierOutcomeAgainstTheRetainedLimit() throws Exception
    {
        open(b -> b.handler(sw).maxRetainedOutcomes(3));
        final Outcome b = get(engine.submit(new TaskRequest().key("b").type("echo").payload("b")));
        final Outcome a = dead("a");
        assertThat(answer(engine.redrive("a")).redriven()).isTrue();
        await().atMost(15, TimeUnit.SECONDS).until(() -> engine.status("a").get(5, TimeUnit.SECONDS).state() == DEAD_LETTERED &&
            engine.status("a").get(5, TimeUnit.SECONDS).attempts() == 2);
        get(engine.submit(new TaskRequest().key("c").type("echo").payload("c")));

        // three keys finished, three outcomes remembered: b's is one of them
        final Outcome again = get(engine.submit(new TaskRequest().key("b").type("echo").payload("b-again")));
        assertThat(again.duplicate()).as("b answered with its recorded outcome, not run again").isTrue();
        assertThat(again.taskId()).isEqualTo(b.taskId());
        assertThat(again.outputAsString()).isEqualTo("b");
        assertThat(engine.status("a").get(5, TimeUnit.SECONDS).taskId()).isEqualTo(a.taskId());

        engine.close();
        open(o -> o.handler(sw).maxRetainedOutcomes(3));
        final Outcome afterRestart = get(engine.submit(new TaskRequest().key("b").type("echo").payload("b-again")));
        assertThat(afterRestart.duplicate()).isTrue();
        assertThat(afterRestart.taskId()).isEqualTo(b.taskId());
    }

    /**
     * Queries pipelined past the limit are refused at once, as the call returns, before the sequence stage lists
     * anything for them (an outside check: a client pipelining DLQ_LISTs of a thousand entries took the stage's time
     * from every other client's tasks, its queries refused only after being listed); the others are answered.
     */
    @Test
    void shouldRefuseDeadLetterQueriesPastTheLimitBeforeListingThem() throws Exception
    {
        open(b -> b.handler(sw));
        for (int i = 0; i < 300; i++)
        {
            dead("d-" + i);
        }
        final List<CompletableFuture<DeadLetterPage>> pages = new ArrayList<>();
        int refusedAtOnce = 0;
        for (int i = 0; i < 2_000; i++)
        {
            final CompletableFuture<DeadLetterPage> page = engine.deadLetters(0, Engine.MAX_DEAD_LETTER_PAGE);
            if (page.isCompletedExceptionally())
            {
                refusedAtOnce++;
                assertThatThrownBy(page::join).hasCauseInstanceOf(DeadLetterAnswerer.DeadLetterQueriesBusyException.class)
                    .hasMessageContaining(DeadLetterAnswerer.MAX_WAITING + " dead-letter queries are waiting to be answered");
            }
            else
            {
                pages.add(page);
            }
        }
        assertThat(refusedAtOnce).isPositive();
        for (final CompletableFuture<DeadLetterPage> page : pages)
        {
            assertThat(page.get(30, TimeUnit.SECONDS).letters()).hasSize(300);
        }
        // every query answered gave its place back
        assertThat(answer(engine.deadLetters(0, 10)).total()).isEqualTo(300);
    }

    @Test
    void shouldRefuseToRedriveAKeyThatIsNotDeadLetteredAndChangeNothing() throws Exception
    {
        final TestHandlers.Gated gated = new TestHandlers.Gated("gated");
        open(b -> b.handler(sw).handler(gated));
        final Outcome done = get(engine.submit(new TaskRequest().key("done").type("noop")));
        final CompletableFuture<Outcome> running = engine.submit(new TaskRequest().key("running").type("gated"));
        await().until(() -> gated.started.get() == 1);
        final Outcome purged = dead("purged");
        assertThat(answer(engine.purgeDeadLetter("purged")).purged()).isEqualTo(1);

        final RedriveResult unknown = answer(engine.redrive("nobody"));
        assertThat(unknown.outcome()).isEqualTo(RedriveOutcome.NOT_DEAD_LETTERED);
        assertThat(unknown.taskId()).isZero();
        assertThat(unknown.state()).isNull();
        assertThat(unknown.message()).isEqualTo("key nobody is not dead-lettered: no task with this key is known");

        final RedriveResult live = answer(engine.redrive("running"));
        assertThat(live.outcome()).isEqualTo(RedriveOutcome.NOT_DEAD_LETTERED);
        assertThat(live.state()).isEqualTo(RUNNING);
        assertThat(live.message()).contains("is RUNNING");

        final RedriveResult succeeded = answer(engine.redrive("done"));
        assertThat(succeeded.outcome()).isEqualTo(RedriveOutcome.NOT_DEAD_LETTERED);
        assertThat(succeeded.taskId()).isEqualTo(done.taskId());
        assertThat(succeeded.state()).isEqualTo(SUCCEEDED);
        assertThat(succeeded.message()).isEqualTo("key done is not dead-lettered: its task " + done.taskId() + " is SUCCEEDED");

        final RedriveResult afterPurge = answer(engine.redrive("purged"));
        assertThat(afterPurge.outcome()).isEqualTo(RedriveOutcome.NOT_DEAD_LETTERED);
        assertThat(afterPurge.state()).isEqualTo(DEAD_LETTERED);
        assertThat(afterPurge.taskId()).isEqualTo(purged.taskId());
        assertThat(afterPurge.message()).isEqualTo("key purged has no dead letter: its task " + purged.taskId() +
            " ended DEAD_LETTERED, and its letter is gone (purged, or left out when the list was full)");

        gated.open();
        assertThat(get(running).state()).isEqualTo(SUCCEEDED);
        assertThat(engine.status("purged").join().state()).as("unchanged").isEqualTo(DEAD_LETTERED);
        final TaskHistory history = closeAndReplay();
        assertThat(history).task(purged.taskId()).hasStates(PENDING, RUNNING, DEAD_LETTERED).replaysDeterministically();
        assertThat(history.report().recordsByType()).containsEntry(RecordType.REDRIVE_REQUESTED, 4L)
            .doesNotContainKey(RecordType.RETRY_SCHEDULED);
    }

    @Test
    void shouldRefuseToRedriveALetterWhoseKeyHasALaterTaskAndReplaceItWhenThatOneIsDeadLettered() throws Exception
    {
        final TestHandlers.Gated gated = new TestHandlers.Gated("gated");
        open(b -> b.handler(sw).handler(gated).outcomeRetention(Duration.ZERO));
        final Outcome first = dead("k");
        // the dedupe window (0 here) forgot the first task's outcome: the key makes a new task
        final CompletableFuture<Outcome> later = engine.submit(new TaskRequest().key("k").type("gated"));
        await().until(() -> gated.started.get() == 1);

        final RedriveResult superseded = answer(engine.redrive("k"));
        assertThat(superseded.outcome()).isEqualTo(RedriveOutcome.SUPERSEDED);
        assertThat(superseded.state()).isEqualTo(RUNNING);
        assertThat(superseded.taskId()).isNotEqualTo(first.taskId());
        assertThat(superseded.message()).contains("superseded").contains("purge the dead letter instead");
        assertThat(all()).extracting(DeadLetter::taskId).containsExactly(first.taskId());
        gated.open();
        assertThat(get(later).state()).isEqualTo(SUCCEEDED);

        final Outcome third = dead("k");
        assertThat(third.taskId()).isNotEqualTo(first.taskId());
        assertThat(all()).as("one letter per key: the newest").extracting(DeadLetter::taskId).containsExactly(third.taskId());
        assertThat(all().get(0).cursor()).isEqualTo(2);
        assertThat(closeAndReplay()).task(third.taskId()).hasStates(PENDING, RUNNING, DEAD_LETTERED).replaysDeterministically();
    }

    @Test
    void shouldPurgeOneKeyOrAllAndKeepTheOutcomesForDedupe() throws Exception
    {
        open(b -> b.handler(sw));
        final Outcome a = dead("a");
        dead("b");
        dead("c");

        assertThat(answer(engine.purgeDeadLetter("a"))).isEqualTo(new PurgeResult(1, 2));
        assertThat(answer(engine.purgeDeadLetter("a"))).as("already gone").isEqualTo(new PurgeResult(0, 2));
        assertThat(answer(engine.purgeDeadLetter("nobody"))).isEqualTo(new PurgeResult(0, 2));
        assertThat(all()).extracting(DeadLetter::keyAsString).containsExactly("b", "c");
        assertThat(answer(engine.purgeDeadLetters())).isEqualTo(new PurgeResult(2, 0));
        assertThat(answer(engine.purgeDeadLetters())).isEqualTo(new PurgeResult(0, 0));
        assertThat(all()).isEmpty();
        assertThat(engine.deadLetterCount()).isZero();

        final Outcome again = get(engine.submit(new TaskRequest().key("a").type("switch")));
        assertThat(again.duplicate()).as("the outcome is still remembered").isTrue();
        assertThat(again.state()).isEqualTo(DEAD_LETTERED);
        assertThat(again.taskId()).isEqualTo(a.taskId());
        final TaskHistory history = closeAndReplay();
        assertThat(history).replaysDeterministically();
        assertThat(history.report().recordsByType()).containsEntry(RecordType.PURGE_REQUESTED, 5L);
        assertThat(history.report().deadLetters()).isZero();
        assertThat(history.report().tasksByState()).containsEntry(DEAD_LETTERED, 3L);
    }

    @Test
    void shouldPageTheListOldestFirstFromACursor() throws Exception
    {
        open(b -> b.handler(sw));
        for (int i = 0; i < 7; i++)
        {
            dead("k" + i);
        }
        assertThat(answer(engine.purgeDeadLetter("k3")).remaining()).isEqualTo(6);

        final List<String> keys = new ArrayList<>();
        final List<Boolean> more = new ArrayList<>();
        long cursor = 0;
        DeadLetterPage page;
        do
        {
            page = answer(engine.deadLetters(cursor, 2));
            assertThat(page.total()).isEqualTo(6);
            page.letters().forEach(letter -> keys.add(letter.keyAsString()));
            more.add(page.more());
            cursor = page.nextCursor();
        }
        while (page.more());
        assertThat(keys).containsExactly("k0", "k1", "k2", "k4", "k5", "k6");
        assertThat(more).containsExactly(true, true, false);
        assertThat(cursor).isEqualTo(7);

        final DeadLetterPage past = answer(engine.deadLetters(7, 5));
        assertThat(past.letters()).isEmpty();
        assertThat(past.nextCursor()).isEqualTo(7);
        assertThat(past.more()).isFalse();
        assertThat(answer(engine.deadLetters(3, 1)).letters()).extracting(DeadLetter::keyAsString).containsExactly("k4");
    }

    @Test
    void shouldRefuseBadArgumentsNamingThem()
    {
        open(b -> b.handler(sw));
        assertThatThrownBy(() -> engine.deadLetters(0, 0)).isInstanceOf(InvalidTaskException.class)
            .hasMessage("limit=0 must be in [1, 1000]");
        assertThatThrownBy(() -> engine.deadLetters(0, 1001)).isInstanceOf(InvalidTaskException.class)
            .hasMessage("limit=1001 must be in [1, 1000]");
        assertThatThrownBy(() -> engine.deadLetters(-1, 10)).isInstanceOf(InvalidTaskException.class)
            .hasMessage("after=-1 must not be negative (0: from the first dead letter)");
        assertThatThrownBy(() -> engine.redrive("")).isInstanceOf(InvalidTaskException.class)
            .hasMessage("key must be 1 to 256 bytes (was 0)");
        assertThatThrownBy(() -> engine.deadLetter("x".repeat(257))).isInstanceOf(InvalidTaskException.class)
            .hasMessage("key must be 1 to 256 bytes (was 257)");
        assertThatThrownBy(() -> engine.purgeDeadLetter(null)).isInstanceOf(InvalidTaskException.class)
            .hasMessage("key must be 1 to 256 bytes (was 0)");
        assertThatThrownBy(() -> engine.tryRedrive(new byte[0])).isInstanceOf(InvalidTaskException.class);
    }

    @Test
    void shouldEndFailedOrTimedOutWhenTheListIsFullAndCountIt() throws Exception
    {
        final TestHandlers.Stuck stuck = new TestHandlers.Stuck(1);
        open(b -> b.handler(sw).handler(stuck).maxDeadLetters(2));
        dead("a");
        dead("b");
        final Outcome overflow = get(engine.submit(new TaskRequest().key("c").type("switch")));
        final Outcome timedOut = get(engine.submit(new TaskRequest().key("d").type("stuck").timeoutMillis(50).maxAttempts(1)));
        assertThat(overflow.state()).isEqualTo(FAILED);
        assertThat(overflow.error()).isEqualTo("refused ");
        assertThat(timedOut.state()).isEqualTo(TIMED_OUT);
        await().until(() -> engine.deadLetterOverflows() == 2);
        assertThat(engine.deadLetterCount()).isEqualTo(2);
        assertThat(answer(engine.redrive("c")).outcome()).isEqualTo(RedriveOutcome.NOT_DEAD_LETTERED);

        assertThat(answer(engine.purgeDeadLetter("a")).remaining()).isEqualTo(1);
        dead("e");
        assertThat(all()).extracting(DeadLetter::keyAsString).containsExactly("b", "e");
        assertThat(closeAndReplay()).task(overflow.taskId()).hasStates(PENDING, RUNNING, FAILED).replaysDeterministically();

        // a restart with a larger bound keeps the decisions the journal holds, and the list
        open(b -> b.handler(sw).handler(stuck).maxDeadLetters(0));
        assertThat(all()).extracting(DeadLetter::keyAsString).containsExactly("b", "e");
        assertThat(engine.deadLetterOverflows()).isEqualTo(2);
        assertThat(engine.status("c").join().state()).isEqualTo(FAILED);
        final Outcome off = get(engine.submit(new TaskRequest().key("f").type("switch")));
        assertThat(off.state()).as("a bound of 0 dead-letters nothing").isEqualTo(FAILED);
        await().until(() -> engine.deadLetterOverflows() == 3);
    }

    @Test
    void shouldRebuildTheSameListAfterARestart() throws Exception
    {
        final TestHandlers.Flaky flaky = new TestHandlers.Flaky("flaky", 1, true, ExecutionMode.INLINE);
        open(b -> b.handler(sw).handler(flaky));
        for (int i = 0; i < 5; i++)
        {
            dead("s" + i);
        }
        assertThat(get(engine.submit(new TaskRequest().key("f").type("flaky").maxAttempts(1))).state()).isEqualTo(DEAD_LETTERED);
        assertThat(answer(engine.purgeDeadLetter("s1")).purged()).isEqualTo(1);
        assertThat(answer(engine.redrive("f")).redriven()).isTrue();
        await().until(() -> engine.status("f").join().state() == SUCCEEDED);
        dead("s5");
        assertThat(answer(engine.purgeDeadLetter("s5")).purged()).isEqualTo(1);

        final DeadLetterPage before = answer(engine.deadLetters(0, 100));
        final List<Optional<DeadLetterDetails>> detailsBefore = new ArrayList<>();
        for (final DeadLetter letter : before.letters())
        {
            detailsBefore.add(answer(engine.deadLetter(letter.keyAsString())));
        }
        final TaskStatus fBefore = engine.status("f").join();
        engine.close();

        open(b -> b.handler(sw).handler(flaky));
        assertThat(answer(engine.deadLetters(0, 100))).isEqualTo(before);
        assertThat(before.letters()).extracting(DeadLetter::keyAsString).containsExactly("s0", "s2", "s3", "s4");
        for (int i = 0; i < before.letters().size(); i++)
        {
            assertThat(answer(engine.deadLetter(before.letters().get(i).keyAsString()))).isEqualTo(detailsBefore.get(i));
        }
        assertThat(engine.status("f").join()).isEqualTo(fBefore);
        assertThat(engine.deadLetterCount()).isEqualTo(4);
        assertThat(engine.recovery().derivedRepublished()).isZero();
        // numbering carries on after the purged newest entry (7), as it would have without the restart
        dead("s6");
        assertThat(answer(engine.deadLetter("s6")).orElseThrow().letter().cursor()).isEqualTo(8);
    }

    @Test
    void shouldHonourARedriveJournaledBeforeACrash() throws Exception
    {
        open(b -> b.handler(sw));
        final Outcome first = dead("k");
        engine.close();
        engine = null;

        // as if the engine had journaled the redrive and died before deciding anything from it
        try (Journal journal = Journal.openForAppend(JournalConfig.of(dir)))
        {
            final JournalWriter writer = journal.writer();
            final byte[] key = "k".getBytes(StandardCharsets.UTF_8);
            final int at = writer.claim(64);
            final RedriveRequestedRecord.Encoder redrive = new RedriveRequestedRecord.Encoder().wrap(writer.buffer(), at).key(key, 0, 1);
            writer.commit(RecordType.REDRIVE_REQUESTED, 0, journal.lastTimestampAtOpen() + 1, redrive.frameLength());
            writer.flush();
        }

        sw.failing = false;
        open(b -> b.handler(sw));
        assertThat(engine.recovery().derivedRepublished()).as("the redrive's RETRY_SCHEDULED, journaled by the new engine").isEqualTo(1);
        await().until(() -> engine.status("k").join().state() == SUCCEEDED);
        final TaskStatus status = engine.status("k").join();
        assertThat(status.taskId()).isEqualTo(first.taskId());
        assertThat(status.attempts()).isEqualTo(2);
        assertThat(status.outcome().outputAsString()).isEqualTo("p-k");
        assertThat(all()).isEmpty();
        assertThat(closeAndReplay()).task(first.taskId()).hasStates(PENDING, RUNNING, DEAD_LETTERED, RETRY_WAIT, RUNNING, SUCCEEDED)
            .replaysDeterministically();
    }
}
