package io.gyre.engine;

import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.Sequence;

/**
 * Runs consecutive stages of the pipeline on one thread, keeping their order and contracts: when it
 * includes the journal stage, a whole batch is appended and committed before any event of it is handed to
 * the stages after; every other stage sees each event in ring order, one stage after the other.
 * <p>
 * Why: each stage on its own thread is the fastest layout when there is a core per stage; with fewer cores
 * the stage threads take the CPU from each other (see BENCHMARKS.md).
 */
final class FusedStage implements EventHandler<RingEvent>
{
    private final JournalStage journal;
    private final SequenceStage sequence;
    private final ExecuteStage execute;
    private final PublishStage publish;
    private final InlineFastPath inline;
    private RingBuffer<RingEvent> ring;
    private long batchStart = -1;

    FusedStage(
        final JournalStage journal,
        final SequenceStage sequence,
        final ExecuteStage execute,
        final PublishStage publish,
        final InlineFastPath inline)
    {
        this.inline = inline;
        this.journal = journal;
        this.sequence = sequence;
        this.execute = execute;
        this.publish = publish;
    }

    void ring(final RingBuffer<RingEvent> ring)
    {
        this.ring = ring;
    }

    @Override
    public void onStart()
    {
        if (journal != null)
        {
            journal.onStart();
        }
        if (sequence != null)
        {
            sequence.onStart();
        }
    }

    @Override
    public void setSequenceCallback(final Sequence sequenceCallback)
    {
        if (execute != null)
        {
            execute.setSequenceCallback(sequenceCallback);
        }
    }

    @Override
    public void onEvent(final RingEvent event, final long sequenceNumber, final boolean endOfBatch)
    {
        if (journal == null)
        {
            rest(event, sequenceNumber, endOfBatch);
            return;
        }
        if (batchStart < 0)
        {
            batchStart = sequenceNumber;
        }
        journal.onEvent(event, sequenceNumber, endOfBatch);
        if (endOfBatch)
        {
            final long first = batchStart;
            batchStart = -1;
            if (sequence == null)
            {
                for (long s = first; s <= sequenceNumber; s++)
                {
                    rest(ring.get(s), s, s == sequenceNumber);
                }
                return;
            }
            sequence.prefetch(ring, first, sequenceNumber);
            for (long s = first; s <= sequenceNumber; s++)
            {
                sequence.onEvent(ring.get(s), s, s == sequenceNumber);
            }
            if (inline != null)
            {
                inline.run(ring, first, sequenceNumber);
            }
            for (long s = first; s <= sequenceNumber; s++)
            {
                afterSequence(ring.get(s), s, s == sequenceNumber);
            }
        }
    }

    private void rest(final RingEvent event, final long sequenceNumber, final boolean endOfBatch)
    {
        if (sequence != null)
        {
            sequence.onEvent(event, sequenceNumber, endOfBatch);
        }
        afterSequence(event, sequenceNumber, endOfBatch);
    }

    private void afterSequence(final RingEvent event, final long sequenceNumber, final boolean endOfBatch)
    {
        if (execute != null)
        {
            execute.onEvent(event, sequenceNumber, endOfBatch);
        }
        if (publish != null)
        {
            publish.onEvent(event, sequenceNumber, endOfBatch);
            if (execute != null)
            {
                execute.publishReportedAfter(sequenceNumber);
            }
        }
    }
}
