package io.gyre.engine;

import io.gyre.journal.FailedRecord;
import io.gyre.journal.Journal;
import io.gyre.journal.JournalReader;
import io.gyre.journal.RecordHandler;
import io.gyre.journal.RecordType;
import io.gyre.journal.RecordView;
import io.gyre.journal.SubmittedRecord;
import org.agrona.MutableDirectBuffer;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.MessageHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * Status events: turns the transitions the sequence stage hands to {@link LiveTransitions} into
 * {@link TaskEvent}s and fans each out to the subscriptions whose filter it passes.
 * <p>
 * <pre>
 *  sequence stage ──records──▶ SPSC ring ──▶ hub thread ──▶ subscription queues ──▶ listeners
 *  (never waits: full ring =                 filters; errors    (bounded: full =      (on their own
 *   dropped, counted)                        read from the      dropped, counted)     executors)
 *                                            journal
 * </pre>
 * Nobody subscribed costs the engine nothing: the sequence stage has no feed then, and this thread does not
 * exist until the first subscription. With subscribers, the engine never waits for them: the feed is a fixed
 * ring the sequence stage writes without blocking, and each subscription's queue is bounded and drained on
 * the subscription's own executor.
 * <p>
 * Why the sequencer and not a tailer of the journal: the journal alone does not say every transition. Whether a
 * submission created a task or joined one or found its outcome, whether a result was late, and when a held
 * outcome is released, the state machine decides from state the journal does not spell out, and derived records
 * are journaled a little after the input that caused them, sometimes after later inputs. The sequencer knows
 * each transition exactly, in order, the moment it decides it from a journaled record. A new task's record carries
 * its key and tenant; the hub keeps them (or, when no subscription wants the task, a mark that skips its later
 * transitions) until the task ends, and reads the journal only for error messages and for tasks it did not see
 * begin.
 * <p>
 * What it costs with subscribers, measured (BENCHMARKS.md, status events): on two cores at the engine's peak the
 * hub's thread takes CPU from the stages, most with every event delivered; the engine still never waits.
 * <p>
 * Threads: {@link #subscribe} and {@link #remove} from any thread; {@link #close} from the engine's closing
 * thread once its stages have stopped; everything else on the hub's own thread.
 */
final class EventHub implements MessageHandler
{
    /** Size of the feed ring: about 95,000 transitions of slack for the hub (88 bytes each with its header). */
    static final int FEED_BYTES = 8 << 20;
    /** The most subscriptions open at once in one engine. */
    static final int MAX_SUBSCRIPTIONS = 65_536;
    /** Events queued per subscription by default before the next are dropped. */
    static final int DEFAULT_MAX_QUEUED = 4096;
    /** The largest queue a subscription may ask for. */
    static final int MAX_MAX_QUEUED = 1 << 20;
    /** Key, type and tenant of this many tasks at most are cached; beyond, the cache starts over. */
    private static final int TASK_CACHE_LIMIT = 65_536;
    /** Transitions read before the subscriptions offered events are signalled (their executors woken). */
    private static final int READ_BATCH = 256;
    private static final EventSubscription[] NONE = new EventSubscription[0];
    private static final byte[] EMPTY = new byte[0];
    /** Cached for a task no subscription wanted when it began: its later transitions are skipped at once. */
    private static final TaskInfo UNWANTED = new TaskInfo(EMPTY, "", EMPTY);
    private static final Logger LOG = LoggerFactory.getLogger(EventHub.class);

    private final Journal journal;
    private final HandlerRegistry registry;
    private final Consumer<LiveTransitions> attach;
    private int feedBytes = FEED_BYTES;
    private final Object lock = new Object();

    // guarded by lock (the array itself is replaced, never changed, and read without the lock)
    private volatile EventSubscription[] subscriptions = NONE;
    private LiveTransitions feed;
    private Thread thread;
    private long nextId = 1;
    private boolean closed;
    private volatile boolean stopping;
    /** One more each time a subscription opens: the hub then forgets which tasks nobody wanted. */
    private volatile int generation;

    // the hub thread's
    private JournalReader reader;
    private final Long2ObjectHashMap<TaskInfo> tasks = new Long2ObjectHashMap<>();
    private final Lookup lookup = new Lookup();
    private long lostSeen;
    private long events;
    private int seenGeneration;
    /** The events queued over all subscriptions, in estimated bytes ({@link #reserveEventBytes}). */
    private final ByteBudget queuedBytes;
    /** Subscriptions offered events in the batch being read, to signal at its end. */
    private final java.util.ArrayList<EventSubscription> touched = new java.util.ArrayList<>();

    /**
     * @param attach gives the sequence stage the feed to write (null: nobody subscribes, write nothing).
     * @param maxQueuedBytes the events waiting for their subscribers over all subscriptions, in (estimated) bytes:
     *     past it, the subscription holding the most is ended, or the event dropped ({@link EngineConfig#maxQueuedEventBytes()}).
     */
    EventHub(final Journal journal, final HandlerRegistry registry, final Consumer<LiveTransitions> attach, final long maxQueuedBytes)
    {
        this.journal = journal;
        this.registry = registry;
        this.attach = attach;
        this.queuedBytes = new ByteBudget(maxQueuedBytes);
    }

    // ------------------------------------------------------------------------------------------------
    // The events' bytes over all subscriptions

    /**
     * Count an event's bytes as queued, unless that would pass the limit (one event is always allowed when none is
     * queued, however large). Any thread.
     *
     * @return false when it would: the event is to be dropped.
     */
    boolean reserveEventBytes(final long bytes)
    {
        return queuedBytes.tryAcquire(bytes);
    }

    /** Bytes of events no longer queued (delivered, or dropped with their subscription). Any thread. */
    void releaseEventBytes(final long bytes)
    {
        queuedBytes.release(bytes);
    }

    /** @return the bytes of events queued over all subscriptions now (estimated). */
    long queuedEventBytes()
    {
        return queuedBytes.used();
    }

    /**
     * A test seam: the feed's size (a power of two), before the first subscription creates it.
     */
    void feedBytes(final int value)
    {
        synchronized (lock)
        {
            feedBytes = value;
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Any thread

    /**
     * Open a subscription. Events decided once this returns are all offered to it (earlier ones may be too).
     *
     * @throws EngineClosedException when the engine is closing.
     * @throws IllegalStateException at {@link #MAX_SUBSCRIPTIONS}.
     */
    EventSubscription subscribe(
        final EventFilter filter, final TaskEventListener listener, final Executor executor, final boolean ownsExecutor, final int maxQueued)
    {
        final EventSubscription subscription;
        synchronized (lock)
        {
            if (closed)
            {
                throw new EngineClosedException("the engine is closing: no new status subscriptions");
            }
            if (subscriptions.length >= MAX_SUBSCRIPTIONS)
            {
                throw new IllegalStateException("the engine has its maximum of " + MAX_SUBSCRIPTIONS + " status subscriptions open");
            }
            if (feed == null)
            {
                feed = new LiveTransitions(feedBytes);
            }
            subscription = new EventSubscription(nextId++, filter, listener, executor, ownsExecutor, maxQueued, this);
            final EventSubscription[] more = Arrays.copyOf(subscriptions, subscriptions.length + 1);
            more[more.length - 1] = subscription;
            // the subscription is in the array before the feed is attached: whatever the hub reads from the feed
            // after the sequence stage saw the feed, it hands to an array that holds the subscription
            subscriptions = more;
            generation++;
            if (thread == null)
            {
                thread = new Thread(this::run, "gyre-events");
                thread.setDaemon(true);
                thread.start();
            }
            attach.accept(feed);
        }
        LockSupport.unpark(thread);
        LOG.debug("status subscription {} opened: {}", subscription.id(), filter);
        return subscription;
    }

    /**
     * A subscription ended: stop offering it events; with none left, detach the feed.
     */
    void remove(final EventSubscription subscription)
    {
        synchronized (lock)
        {
            final EventSubscription[] now = subscriptions;
            int at = -1;
            for (int i = 0; i < now.length; i++)
            {
                if (now[i] == subscription)
                {
                    at = i;
                    break;
                }
            }
            if (at < 0)
            {
                return;
            }
            final EventSubscription[] fewer = new EventSubscription[now.length - 1];
            System.arraycopy(now, 0, fewer, 0, at);
            System.arraycopy(now, at + 1, fewer, at, now.length - at - 1);
            subscriptions = fewer;
            if (fewer.length == 0 && !closed)
            {
                attach.accept(null);
            }
        }
    }

    /** @return subscriptions open now. */
    int subscriptionCount()
    {
        return subscriptions.length;
    }

    /** @return transitions the feed dropped because the hub did not keep up (every subscriber was told). */
    long lostInFeed()
    {
        synchronized (lock)
        {
            return feed == null ? 0 : feed.lost();
        }
    }

    /**
     * The engine's stages have stopped: hand out what the feed still holds, let every subscription deliver
     * what it has queued and end, and stop the thread (before the journal closes: it reads the journal).
     */
    void close()
    {
        final Thread running;
        synchronized (lock)
        {
            if (closed)
            {
                return;
            }
            closed = true;
            running = thread;
        }
        if (running == null)
        {
            return;
        }
        stopping = true;
        LockSupport.unpark(running);
        try
        {
            running.join(TimeUnit.SECONDS.toMillis(10));
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        if (running.isAlive())
        {
            LOG.error("the status event thread did not stop within 10 s");
        }
    }

    // ------------------------------------------------------------------------------------------------
    // The hub's thread

    private void run()
    {
        // no spinning: on a machine with few cores a spinning hub takes the CPU from the engine's stages; an event
        // waits 50 us to 1 ms longer when the feed ran dry, which a status subscriber does not notice
        final IdleStrategy idle = new BackoffIdleStrategy(0, 1, TimeUnit.MICROSECONDS.toNanos(50), TimeUnit.MILLISECONDS.toNanos(1));
        reader = journal.newReader();
        try
        {
            while (true)
            {
                // read the flag first: whatever the stages wrote before it was set is in the feed by now
                final boolean stop = stopping;
                int work = feed.ring().read(this, READ_BATCH);
                signalTouched();
                work += checkLost();
                if (work > 0)
                {
                    idle.reset();
                    continue;
                }
                if (stop)
                {
                    break;
                }
                if (subscriptions.length == 0)
                {
                    // nobody listens: transitions are not fed; the cached tasks may miss their ends
                    tasks.clear();
                    LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(100));
                }
                else
                {
                    idle.idle();
                }
            }
        }
        catch (final Throwable t)
        {
            LOG.error("the status event thread failed; subscriptions end, and no new one is taken", t);
            synchronized (lock)
            {
                closed = true;
                attach.accept(null);
            }
        }
        finally
        {
            for (final EventSubscription subscription : subscriptions)
            {
                subscription.end();
            }
            reader.close();
            LOG.debug("status event thread stopped after {} events", events);
        }
    }

    private void signalTouched()
    {
        for (int i = 0; i < touched.size(); i++)
        {
            final EventSubscription subscription = touched.get(i);
            subscription.touched = false;
            subscription.signal();
        }
        touched.clear();
    }

    private int checkLost()
    {
        final long now = feed.lost();
        if (now == lostSeen)
        {
            return 0;
        }
        final long missed = now - lostSeen;
        lostSeen = now;
        LOG.warn("status events: {} transitions dropped (the event thread fell behind the engine); subscribers are told", missed);
        for (final EventSubscription subscription : subscriptions)
        {
            subscription.lostUpstream(missed);
        }
        return 1;
    }

    @Override
    public void onMessage(final int msgTypeId, final MutableDirectBuffer b, final int index, final int length)
    {
        final EventSubscription[] subs = subscriptions;
        if (subs.length == 0 || msgTypeId != LiveTransitions.MSG_TRANSITION)
        {
            return;
        }
        if (generation != seenGeneration)
        {
            // a new subscription may want tasks that nobody wanted so far
            seenGeneration = generation;
            tasks.clear();
        }
        final long taskId = b.getLong(index + LiveTransitions.TASK_ID);
        final TaskEvent.Kind kind = TaskEvent.Kind.fromCode(b.getByte(index + LiveTransitions.KIND));
        final int handlerId = b.getInt(index + LiveTransitions.HANDLER_ID);
        if (length > LiveTransitions.LENGTH && handlerId >= 0 && handlerId < registry.size())
        {
            // a new task, with its key and tenant: no need to read its submission back; and when no subscription
            // wants it, nothing is copied, and its later transitions are skipped at the cost of a lookup
            final int keyLength = b.getShort(index + LiveTransitions.KEY_LENGTH) & 0xFFFF;
            final int tenantLength = b.getShort(index + LiveTransitions.TENANT_LENGTH) & 0xFFFF;
            final int keyAt = index + LiveTransitions.SUBMISSION;
            final String type = registry.handler(handlerId).type();
            boolean any = false;
            for (final EventSubscription subscription : subs)
            {
                if (subscription.filter().matches(type, b, keyAt, keyLength, keyAt + keyLength, tenantLength))
                {
                    any = true;
                    break;
                }
            }
            if (!any)
            {
                remember(taskId, UNWANTED);
                return;
            }
            final byte[] key = new byte[keyLength];
            b.getBytes(keyAt, key);
            final byte[] tenant = tenantLength == 0 ? EMPTY : new byte[tenantLength];
            b.getBytes(keyAt + keyLength, tenant);
            remember(taskId, new TaskInfo(key, type, tenant));
        }
        final TaskInfo info = info(taskId, handlerId, b.getLong(index + LiveTransitions.SUBMIT_DOCUMENT),
            b.getInt(index + LiveTransitions.SUBMIT_OFFSET));
        if (ends(kind))
        {
            tasks.remove(taskId);
        }
        if (info == UNWANTED)
        {
            return;
        }
        boolean wanted = false;
        for (final EventSubscription subscription : subs)
        {
            if (subscription.filter().matches(info.type, info.key, info.tenant))
            {
                wanted = true;
                break;
            }
        }
        if (!wanted)
        {
            return;
        }
        final int attempt = b.getInt(index + LiveTransitions.ATTEMPT);
        final int timeoutMillis = b.getInt(index + LiveTransitions.TIMEOUT_MILLIS);
        final long outcomeDocument = b.getLong(index + LiveTransitions.OUTCOME_DOCUMENT);
        final int outcomeOffset = b.getInt(index + LiveTransitions.OUTCOME_OFFSET);
        int reason = b.getByte(index + LiveTransitions.REASON) & 0xFF;
        String error = null;
        switch (kind)
        {
            case RETRY_SCHEDULED ->
            {
                // after a failure, the outcome position holds that attempt's FAILED record; otherwise it timed out
                if (lookup.failure(reader, outcomeDocument, outcomeOffset, taskId, attempt))
                {
                    reason = TaskEvent.REASON_RETRY_AFTER_FAILURE;
                    error = lookup.message;
                }
                else
                {
                    reason = TaskEvent.REASON_RETRY_AFTER_TIMEOUT;
                    error = DeadLetterAnswers.timedOut(attempt, timeoutMillis);
                }
            }
            case FAILED ->
            {
                if (lookup.failure(reader, outcomeDocument, outcomeOffset, taskId, attempt))
                {
                    reason = lookup.errorKind == FailedRecord.KIND_PERMANENT ? TaskEvent.REASON_PERMANENT_FAILURE :
                        TaskEvent.REASON_ATTEMPTS_EXHAUSTED;
                    error = lookup.message;
                }
            }
            case DEAD_LETTERED ->
            {
                if (reason == TaskEvent.REASON_TIMED_OUT)
                {
                    error = DeadLetterAnswers.timedOut(attempt, timeoutMillis);
                }
                else if (lookup.failure(reader, outcomeDocument, outcomeOffset, taskId, attempt))
                {
                    error = lookup.message;
                }
            }
            case TIMED_OUT -> error = DeadLetterAnswers.timedOut(attempt, timeoutMillis);
            default ->
            {
            }
        }
        final int from = b.getByte(index + LiveTransitions.FROM) & 0xFF;
        final TaskEvent event = new TaskEvent(
            b.getLong(index + LiveTransitions.CAUSE_EVENT_ID),
            b.getLong(index + LiveTransitions.CAUSE_DOCUMENT),
            b.getLong(index + LiveTransitions.TIMESTAMP),
            taskId,
            kind,
            from == LiveTransitions.NO_STATE ? null : TaskState.fromCode(from),
            TaskState.fromCode(b.getByte(index + LiveTransitions.TO) & 0xFF),
            reason,
            attempt,
            b.getLong(index + LiveTransitions.DUE_AT),
            info.key,
            info.type,
            info.tenant,
            error);
        events++;
        for (final EventSubscription subscription : subs)
        {
            if (subscription.filter().matches(info.type, info.key, info.tenant))
            {
                if (!subscription.offer(event, true))
                {
                    // the bound over all subscriptions: end the one holding the most (if another), then offer again,
                    // which queues the event or counts it lost
                    shedLargest(subs, subscription);
                    subscription.offer(event, false);
                }
                if (!subscription.touched)
                {
                    subscription.touched = true;
                    touched.add(subscription);
                }
            }
        }
    }

    /**
     * The events queued over all subscriptions reached their bound, and an event for {@code offered} was dropped: end
     * the subscription holding the most queued bytes, unless that is {@code offered} itself (then its own backlog is
     * why, and the event stays dropped, counted lost). So subscribers that stop reading cannot take every other
     * one's events: the one holding the most goes, as under the reply budget, and hears
     * {@link TaskEventListener#onOverflow()} before {@link TaskEventListener#onClosed()}.
     *
     * @return whether one was ended (its bytes are given back: room for the event).
     */
    private boolean shedLargest(final EventSubscription[] subs, final EventSubscription offered)
    {
        EventSubscription largest = null;
        for (final EventSubscription s : subs)
        {
            if (!s.isClosed() && (largest == null || s.queuedBytes() > largest.queuedBytes()))
            {
                largest = s;
            }
        }
        if (largest == null || largest == offered || largest.queuedBytes() <= offered.queuedBytes())
        {
            return false;
        }
        largest.overflow();
        return true;
    }

    /**
     * @return whether the kind leaves the task finished (its cached key, type and tenant can go).
     */
    private static boolean ends(final TaskEvent.Kind kind)
    {
        return switch (kind)
        {
            case SUCCEEDED, FAILED, CANCELLED, TIMED_OUT, DEAD_LETTERED, PURGED -> true;
            default -> false;
        };
    }

    /**
     * @return the task's key, type and tenant: cached, or read from its submission in the journal (empty when
     *     the submission is gone; the type then from the registry, when known).
     */
    private TaskInfo info(final long taskId, final int handlerId, final long submitDocument, final int submitOffset)
    {
        TaskInfo info = tasks.get(taskId);
        if (info != null)
        {
            return info;
        }
        final String known = handlerId >= 0 && handlerId < registry.size() ? registry.handler(handlerId).type() : null;
        if (lookup.submission(reader, submitDocument, submitOffset, taskId))
        {
            info = new TaskInfo(lookup.key, known != null ? known : lookup.type, lookup.tenant);
        }
        else
        {
            info = new TaskInfo(EMPTY, known != null ? known : "", EMPTY);
        }
        remember(taskId, info);
        return info;
    }

    private void remember(final long taskId, final TaskInfo info)
    {
        if (tasks.size() >= TASK_CACHE_LIMIT)
        {
            tasks.clear();
        }
        tasks.put(taskId, info);
    }

    /** What a task's events carry of its submission. */
    private record TaskInfo(byte[] key, String type, byte[] tenant)
    {
    }

    /**
     * Reads a record by its position and keeps what the events need from it.
     */
    private static final class Lookup implements RecordHandler
    {
        private long expectTaskId;
        private int expectAttempt;
        private boolean found;
        byte[] key;
        String type;
        byte[] tenant;
        String message;
        int errorKind;

        /**
         * @return whether the SUBMITTED record of this task is there (then key, type and tenant are set).
         */
        boolean submission(final JournalReader reader, final long document, final int offset, final long taskId)
        {
            found = false;
            expectTaskId = taskId;
            expectAttempt = -1;
            return reader.readRecordAt(document, offset, this) && found;
        }

        /**
         * @return whether the FAILED record of this task's attempt is there (then message and errorKind are set).
         */
        boolean failure(final JournalReader reader, final long document, final int offset, final long taskId, final int attempt)
        {
            found = false;
            if (document < 0)
            {
                return false;
            }
            expectTaskId = taskId;
            expectAttempt = attempt;
            return reader.readRecordAt(document, offset, this) && found;
        }

        @Override
        public void onRecord(final RecordView record)
        {
            if (expectAttempt < 0)
            {
                if (record.type() == RecordType.SUBMITTED && record.eventId() == expectTaskId)
                {
                    final SubmittedRecord.Decoder d = record.submitted();
                    key = copy(d, d.keyOffset(), d.keyLength());
                    type = d.taskType();
                    tenant = copy(d, d.tenantOffset(), d.tenantLength());
                    found = true;
                }
            }
            else if (record.type() == RecordType.FAILED && record.failed().taskId() == expectTaskId &&
                record.failed().attempt() == expectAttempt)
            {
                message = record.failed().message();
                errorKind = record.failed().errorKind();
                found = true;
            }
        }

        private static byte[] copy(final SubmittedRecord.Decoder d, final int offset, final int length)
        {
            if (length == 0)
            {
                return EMPTY;
            }
            final byte[] out = new byte[length];
            d.buffer().getBytes(offset, out);
            return out;
        }
    }
}
