package io.gyre.engine;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Dead-letter queries are answered on a thread of their own, never on the publish stage's (whose thread
 * delivers every client's results), and at most {@link DeadLetterAnswerer#MAX_WAITING} wait.
 */
class DeadLetterAnswererTest
{
    private final CountDownLatch release = new CountDownLatch(1);
    private final List<String> answeredOn = new ArrayList<>();
    private final DeadLetterAnswerer answerer = new DeadLetterAnswerer(query ->
    {
        awaitRelease();
        synchronized (answeredOn)
        {
            answeredOn.add(Thread.currentThread().getName());
        }
        ((Requests.DeadLetterShow)query).complete(Optional.empty());
    });

    @AfterEach
    void close()
    {
        release.countDown();
        answerer.close();
    }

    /**
     * An outside check found one client's pipelined DLQ_LISTs stalling every other client's results: the
     * publish stage read each listed entry back from the journal on its own thread.
     */
    @Test
    void shouldHaveThePublishStageHandADeadLetterQueryOverWithoutAnsweringIt()
    {
        final List<Requests.DeadLetterQuery<?>> handedOver = new ArrayList<>();
        final PublishStage stage = new PublishStage(null, new ByteBudget(1 << 20), HandlerRegistry.forReplay(), handedOver::add);
        final Requests.DeadLetterList query = new Requests.DeadLetterList(0, Engine.MAX_DEAD_LETTER_PAGE);
        final RingEvent e = new RingEvent();
        e.effects.reply(Effects.REPLY_DEAD_LETTERS, query, 0, 0);
        stage.onEvent(e, 0, true);
        assertThat(handedOver).containsExactly(query);
        assertThat(query).isNotDone();
    }

    @Test
    void shouldHandTheQueryOverAndAnswerItOnItsOwnThread() throws Exception
    {
        answerer.start();
        final Requests.DeadLetterShow query = new Requests.DeadLetterShow("k");
        answerer.offer(query);
        assertThat(query).as("handed over, not answered by the thread that offered it").isNotDone();
        release.countDown();
        assertThat(query.get(15, TimeUnit.SECONDS)).isEmpty();
        assertThat(answeredOn).containsExactly("gyre-dead-letters");
    }

    @Test
    void shouldRefuseAQueryBeyondTheWaitingLimitAtOnceAndAnswerTheOthers() throws Exception
    {
        final List<Requests.DeadLetterShow> queries = new ArrayList<>();
        for (int i = 0; i < DeadLetterAnswerer.MAX_WAITING; i++)
        {
            final Requests.DeadLetterShow query = new Requests.DeadLetterShow("k" + i);
            queries.add(query);
            answerer.offer(query);
        }
        final Requests.DeadLetterShow refused = new Requests.DeadLetterShow("one too many");
        answerer.offer(refused);
        assertThat(refused).isCompletedExceptionally();
        assertThatThrownBy(refused::get).isInstanceOf(ExecutionException.class)
            .hasCauseInstanceOf(DeadLetterAnswerer.DeadLetterQueriesBusyException.class)
            .hasMessageContaining(DeadLetterAnswerer.MAX_WAITING + " dead-letter queries are waiting to be answered; retry later");

        answerer.start();
        release.countDown();
        CompletableFuture.allOf(queries.toArray(CompletableFuture<?>[]::new)).get(15, TimeUnit.SECONDS);
        assertThat(answeredOn).hasSize(DeadLetterAnswerer.MAX_WAITING);
    }

    @Test
    void shouldAnswerWhatWaitsWhenClosedAndRefuseWhatComesAfter() throws Exception
    {
        answerer.start();
        final Requests.DeadLetterShow waiting = new Requests.DeadLetterShow("k");
        answerer.offer(waiting);
        release.countDown();
        answerer.close();
        assertThat(waiting.get(15, TimeUnit.SECONDS)).isEmpty();
        final Requests.DeadLetterShow late = new Requests.DeadLetterShow("late");
        answerer.offer(late);
        assertThatThrownBy(late::get).hasCauseInstanceOf(EngineClosedException.class);
    }

    private void awaitRelease()
    {
        try
        {
            release.await(15, TimeUnit.SECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
