package io.gyre.ingress.monitor;

import io.gyre.engine.Engine;
import io.gyre.engine.RecoveryReport;
import io.gyre.ingress.server.GyreServer;
import io.gyre.ingress.server.ServerStats;
import io.gyre.engine.EngineMetrics;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.PrometheusNaming;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Quantile;
import io.prometheus.metrics.model.snapshots.Quantiles;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import org.HdrHistogram.Histogram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;

/**
 * The engine's and the TCP server's figures as Prometheus metric snapshots, read when scraped: nothing is
 * recorded for them on the hot path (they are counters and levels the engine and server keep anyway).
 * <p>
 * Names follow Prometheus conventions: {@code gyre_} prefix, {@code _total} for counters (added by the
 * exposition format), base units (seconds, bytes).
 */
final class GyreMetrics
{
    private static final Logger LOG = LoggerFactory.getLogger(GyreMetrics.class);
    /** What Prometheus's text format takes as a metric name unquoted: a handler's gauge named otherwise is left out. */
    /** What {@link PrometheusNaming#isValidLegacyMetricName} checks, for the warnings. */
    private static final String METRIC_NAME_RULE = "[a-zA-Z_:][a-zA-Z0-9_:]*";
    private static final String LABEL_NAME_RULE = "[a-zA-Z_][a-zA-Z0-9_]*, not starting with __ (reserved)";

    private final Engine engine;
    /** The handlers' gauge problems already said as a WARN ({@link #firstTime}); scrapes may run concurrently. */
    private final java.util.Set<String> warned = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private static final int WARNED_LIMIT = 1_024;
    private final GyreServer server;

    /**
     * @param server the TCP server, or null when the engine is embedded without one.
     */
    GyreMetrics(final Engine engine, final GyreServer server)
    {
        this.engine = engine;
        this.server = server;
    }

    MetricSnapshots collect()
    {
        final MetricSnapshots.Builder all = MetricSnapshots.builder();
        final int ringSize = engine.config().ringSize();
        final long backlog = engine.ringBacklog();
        all.metricSnapshot(gauge("gyre_recovering", "1 while the engine replays its journal at start, 0 once it has.", 0));
        all.metricSnapshot(gauge("gyre_live_tasks", "Tasks accepted and not yet finished.", engine.liveTasks()));
        all.metricSnapshot(gauge("gyre_ring_capacity", "Slots in the engine's ring.", ringSize));
        all.metricSnapshot(gauge("gyre_ring_remaining", "Ring slots free (capacity minus the events not yet executed).",
            Math.max(0, ringSize - backlog)));
        all.metricSnapshot(counter("gyre_stage_failures", "Exceptions that escaped a pipeline stage (bugs; 0 in a healthy engine).",
            engine.stageFailures()));
        all.metricSnapshot(counter("gyre_snapshots_written", "State snapshots written (periodic, requested, at close).",
            engine.snapshotsWritten()));
        final RecoveryReport recovery = engine.recovery();
        all.metricSnapshot(gauge("gyre_recovery_records_replayed", "Journal records replayed when the engine opened.",
            recovery.recordsReplayed()));
        all.metricSnapshot(gauge("gyre_recovery_seconds", "Time the engine took to rebuild its state when it opened.",
            (recovery.snapshotLoadNanos() + recovery.replayNanos()) / 1e9));
        all.metricSnapshot(gauge("gyre_recovery_from_snapshot", "1 when the engine opened from a snapshot, 0 from the whole journal.",
            recovery.snapshot() != null ? 1 : 0));
        all.metricSnapshot(gauge("gyre_journal_lag", "Events in the ring the journal has not yet recorded.", engine.journalLag()));
        final long[] disk = engine.journalDiskUsage();
        all.metricSnapshot(gauge("gyre_journal_bytes", "Size of the journal's cycle files (sparse: the most they take on disk).", disk[0]));
        all.metricSnapshot(gauge("gyre_journal_files", "The journal's cycle files.", disk[1]));
        all.metricSnapshot(gauge("gyre_dead_letters", "Tasks in the dead-letter list.", engine.deadLetterCount()));
        all.metricSnapshot(GaugeSnapshot.builder().name("gyre_attempts_abandoned")
            .help("Threads still running attempts their pool gave up on (told to stop, not returned within abandon-after): "
                + "each was replaced by a new thread, by pool.")
            .dataPoint(gaugePoint(engine.abandonedBlockingAttempts(), "pool", "blocking"))
            .dataPoint(gaugePoint(engine.abandonedCpuAttempts(), "pool", "cpu"))
            .build());
        all.metricSnapshot(GaugeSnapshot.builder().name("gyre_attempts_queued")
            .help("Attempts handed to a pool and waiting in its queue for a thread (counted in gyre_attempts_running too), by pool.")
            .dataPoint(gaugePoint(engine.queuedBlockingAttempts(), "pool", "blocking"))
            .dataPoint(gaugePoint(engine.queuedCpuAttempts(), "pool", "cpu"))
            .build());
        all.metricSnapshot(gauge("gyre_event_subscriptions", "Status event subscriptions open (embedded and over TCP).",
            engine.eventSubscriptions()));
        all.metricSnapshot(gauge("gyre_events_queued_bytes", "Status events waiting for their subscribers over all subscriptions, in "
            + "estimated bytes of heap (bounded by maxQueuedEventBytes: past it, the subscription holding the most is ended).",
            engine.queuedEventBytes()));
        all.metricSnapshot(counter("gyre_events_lost_in_feed", "Transitions dropped because the event hub fell behind the engine "
            + "(subscribers were told how many).", engine.eventsLostInFeed()));
        final EngineMetrics m = engine.metrics();
        if (m != null)
        {
            taskMetrics(all, m);
        }
        if (server != null)
        {
            final ServerStats stats = server.stats();
            all.metricSnapshot(gauge("gyre_tcp_connections", "TCP connections open.", stats.openConnections()));
            all.metricSnapshot(counter("gyre_tcp_connections_accepted", "TCP connections accepted.", stats.connectionsAccepted()));
            all.metricSnapshot(counter("gyre_tcp_frames", "Frames received: each connection's HELLO and every request after it.", stats.frames()));
            all.metricSnapshot(counter("gyre_tcp_connections_refused", "TCP connections refused over the connection limit (TOO_MANY_CONNECTIONS).",
                stats.connectionsRefused()));
            all.metricSnapshot(counter("gyre_tcp_refusals", "Requests the server refused itself with a REJECTED frame, before the engine (invalid, ring full BUSY, shutting down, ...); the engine's refusals (CAPACITY, BUSY_FOR_PRIORITY) are gyre_submissions_total{result=\"rejected_...\"}.",
                stats.refusals()));
            all.metricSnapshot(counter("gyre_tcp_busy_rejections", "Submissions rejected BUSY because the engine was full.",
                stats.busyRejections()));
            all.metricSnapshot(counter("gyre_tcp_protocol_errors", "Connections closed for a protocol error.", stats.protocolErrors()));
            all.metricSnapshot(gauge("gyre_tcp_subscriptions", "Status event subscriptions open over TCP.", stats.subscriptions()));
            all.metricSnapshot(counter("gyre_tcp_events_sent", "Status events written to subscribers.", stats.eventsSent()));
            all.metricSnapshot(counter("gyre_tcp_events_lost", "Status events dropped for subscribers that did not read them in time.",
                stats.eventsLost()));
            all.metricSnapshot(counter("gyre_tcp_auth_failures", "Handshakes refused for a wrong or missing token.", stats.authFailures()));
            all.metricSnapshot(counter("gyre_tcp_slow_consumers",
                "Connections closed with SLOW_CONSUMER: they held more unread reply bytes than a budget allows.", stats.slowConsumers()));
            all.metricSnapshot(gauge("gyre_tcp_in_flight", "Requests received and not yet answered, all connections.", server.inFlight()));
            all.metricSnapshot(gauge("gyre_tcp_pending_outbound_bytes", "Answer bytes queued for clients that have not read them yet.",
                server.pendingOutboundBytes()));
            all.metricSnapshot(gauge("gyre_tcp_held_reply_bytes",
                "Reply bytes encoded and not yet taken by a socket, all connections (bounded by maxTotalReplyBytes).", server.heldReplyBytes()));
        }
        // last, so that a handler's gauge named like one of the engine's is left out instead of failing the scrape
        final MetricSnapshots engineAndServer = all.build();
        final java.util.Set<String> taken = new java.util.HashSet<>();
        engineAndServer.forEach(snapshot -> taken.add(snapshot.getMetadata().getPrometheusName()));
        final MetricSnapshots.Builder withHandlers = MetricSnapshots.builder();
        engineAndServer.forEach(withHandlers::metricSnapshot);
        handlerGauges(withHandlers, taken);
        return withHandlers.build();
    }

    /**
     * What task handlers report of their own state (circuit breakers), one gauge per name. A name or label name that
     * is not valid in Prometheus's text format is left out, not renamed: the exposition would otherwise escape it into
     * another name ({@code bad name!} as {@code bad_name_}), which neither the handler's author nor a dashboard asked
     * for, and which may collide. A handler that reports a bad name, one taken by another metric, or throws loses
     * those gauges (or all of its own, when it throws), not the scrape; each is one WARN naming the task type and the
     * name the first time, DEBUG at later scrapes.
     */
    private void handlerGauges(final MetricSnapshots.Builder all, final java.util.Set<String> taken)
    {
        final java.util.Map<String, GaugeSnapshot.Builder> byName = new java.util.TreeMap<>();
        final java.util.Map<String, String> typeByName = new java.util.HashMap<>();
        final java.util.Map<String, java.util.Set<Labels>> labelsByName = new java.util.HashMap<>();
        for (final io.gyre.engine.TaskHandler handler : engine.handlers())
        {
            final String type = handler.type();
            try
            {
                handler.gauges((name, help, value, labels) ->
                {
                    if (name == null || !PrometheusNaming.isValidLegacyMetricName(name))
                    {
                        leftOut(warned, type, name, "not a Prometheus metric name: " + METRIC_NAME_RULE);
                        return;
                    }
                    if (!byName.containsKey(name) && !startGauge(byName, warned, type, name, help))
                    {
                        return;
                    }
                    typeByName.putIfAbsent(name, type);
                    final Labels set = labels(warned, type, name, labels);
                    if (set == null || !labelsByName.computeIfAbsent(name, n -> new java.util.HashSet<>()).add(set))
                    {
                        return; // a series left out, or reported twice: the first counts
                    }
                    byName.get(name).dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(set).value(value).build());
                });
            }
            catch (final RuntimeException ex)
            {
                if (firstTime(warned, type + "\0failed\0" + ex.getClass().getName() + '\0' + ex.getMessage()))
                {
                    LOG.warn("task type {}: its gauges failed (said once; DEBUG at later scrapes)", type, ex);
                }
                else
                {
                    LOG.debug("task type {}: its gauges failed", type, ex);
                }
            }
        }
        for (final java.util.Map.Entry<String, GaugeSnapshot.Builder> gauge : byName.entrySet())
        {
            final String type = typeByName.get(gauge.getKey());
            try
            {
                final GaugeSnapshot snapshot = gauge.getValue().build();
                if (snapshot.getDataPoints().isEmpty())
                {
                    continue; // each of its series was left out, and said so
                }
                if (!taken.add(snapshot.getMetadata().getPrometheusName()))
                {
                    leftOut(warned, type, gauge.getKey(), "the name is taken");
                    continue;
                }
                all.metricSnapshot(snapshot);
            }
            catch (final IllegalArgumentException ex)
            {
                leftOut(warned, type, gauge.getKey(), ex.getMessage());
            }
        }
    }

    /**
     * Begin the gauge of a name reported for the first time.
     *
     * @return false when Prometheus's model refuses the name (a reserved suffix, {@code _total} and the like): left
     *     out, said once.
     */
    private static boolean startGauge(final java.util.Map<String, GaugeSnapshot.Builder> byName, final java.util.Set<String> warned,
        final String type, final String name, final String help)
    {
        try
        {
            byName.put(name, GaugeSnapshot.builder().name(name).help(help));
            return true;
        }
        catch (final IllegalArgumentException ex)
        {
            leftOut(warned, type, name, ex.getMessage());
            return false;
        }
    }

    /**
     * @return the labels of a handler's series, or null when they are not name-value pairs or a name is not a
     *     Prometheus label name ({@value #LABEL_NAME_RULE}): the series is left out, said once per gauge and reason.
     */
    private static Labels labels(final java.util.Set<String> warned, final String type, final String gauge, final String[] labels)
    {
        if (labels == null || labels.length % 2 != 0)
        {
            seriesLeftOut(warned, type, gauge, "its labels are not name, value pairs");
            return null;
        }
        for (int i = 0; i < labels.length; i += 2)
        {
            final String label = labels[i];
            if (label == null || !PrometheusNaming.isValidLegacyLabelName(label) || label.startsWith("__"))
            {
                seriesLeftOut(warned, type, gauge, "label \"" + label + "\" is not a Prometheus label name: " + LABEL_NAME_RULE);
                return null;
            }
            if (labels[i + 1] == null)
            {
                seriesLeftOut(warned, type, gauge, "label " + label + " has no value (null)");
                return null;
            }
        }
        try
        {
            return Labels.of(labels);
        }
        catch (final IllegalArgumentException ex)
        {
            seriesLeftOut(warned, type, gauge, ex.getMessage()); // a label name twice
            return null;
        }
    }

    private static void leftOut(final java.util.Set<String> warned, final String type, final String gauge, final String why)
    {
        if (firstTime(warned, type + '\0' + gauge + '\0' + why))
        {
            LOG.warn("task type {}: gauge \"{}\" left out: {}", type, gauge, why);
        }
        else
        {
            LOG.debug("task type {}: gauge \"{}\" left out: {}", type, gauge, why);
        }
    }

    private static void seriesLeftOut(final java.util.Set<String> warned, final String type, final String gauge, final String why)
    {
        if (firstTime(warned, type + '\0' + gauge + "\0series\0" + why))
        {
            LOG.warn("task type {}: gauge \"{}\": a series left out: {}", type, gauge, why);
        }
        else
        {
            LOG.debug("task type {}: gauge \"{}\": a series left out: {}", type, gauge, why);
        }
    }

    /**
     * @return whether this problem of a handler's gauges is new: said as a WARN the first time, at DEBUG at later
     *     scrapes (a scrape every few seconds would otherwise repeat it for good). Remembers at most
     *     {@value #WARNED_LIMIT} problems; past that, each is a WARN again.
     */
    private static boolean firstTime(final java.util.Set<String> warned, final String problem)
    {
        return warned.size() >= WARNED_LIMIT ? !warned.contains(problem) : warned.add(problem);
    }

    private static final double[] QUANTILES = {0.5, 0.9, 0.99, 0.999};

    /**
     * Counts by task type (and what happened), latency summaries by task type, the journal's append latency.
     */
    private static void taskMetrics(final MetricSnapshots.Builder all, final EngineMetrics m)
    {
        final CounterSnapshot.Builder submissions = CounterSnapshot.builder().name("gyre_submissions")
            .help("Submissions reaching the engine's state machine, by task type, tenant and result (rejected_busy: shed for its "
                + "priority, BUSY_FOR_PRIORITY on the wire; a full ring's BUSY is gyre_tcp_busy_rejections).");
        final CounterSnapshot.Builder attempts = CounterSnapshot.builder().name("gyre_attempts")
            .help("Attempts, by task type, tenant and what happened: started, failed (retryable or permanent), timed out.");
        final CounterSnapshot.Builder retries = CounterSnapshot.builder().name("gyre_retries")
            .help("Retries scheduled, by task type and tenant.");
        final CounterSnapshot.Builder finished = CounterSnapshot.builder().name("gyre_tasks_finished")
            .help("Tasks that reached a final state, by task type, tenant and state.");
        final CounterSnapshot.Builder queued = CounterSnapshot.builder().name("gyre_accounted_queue_seconds")
            .help("Time finished tasks waited from acceptance to their first attempt, added up, by task type and tenant.");
        final CounterSnapshot.Builder executed = CounterSnapshot.builder().name("gyre_accounted_execution_seconds")
            .help("Time finished tasks' attempts ran, added up, by task type and tenant: the cost of the work, by who asked.");
        // tenants: "" (none named), "(other)" (past the engine's hundred), then each; a series appears once it counts
        // something, except the no-tenant one, present for every type from the start
        final java.util.List<String> tenants = m.tenants();
        final java.util.Set<String> seen = new java.util.HashSet<>();
        for (final String tenant : tenants)
        {
            if (!seen.add(tenant))
            {
                continue; // two tenants of invalid UTF-8 read alike: one series (EngineMetrics finds the first)
            }
            final boolean always = tenant.isEmpty();
            for (final String type : m.types())
            {
                for (final EngineMetrics.Count count : EngineMetrics.Count.values())
                {
                    final long value = m.count(type, tenant, count);
                    if (value == 0 && !always)
                    {
                        continue;
                    }
                    final String name = count.name().toLowerCase(Locale.ROOT);
                    switch (count)
                    {
                        case ACCEPTED, JOINED, DUPLICATE, REJECTED_CAPACITY, REJECTED_BUSY, REJECTED_TOO_MANY_WAITERS,
                             REJECTED_JOURNAL_UNAVAILABLE -> submissions.dataPoint(point(value, "type", type, "tenant", tenant, "result", name));
                        case ATTEMPT_STARTED, ATTEMPT_FAILED_RETRYABLE, ATTEMPT_FAILED_PERMANENT, ATTEMPT_TIMED_OUT ->
                            attempts.dataPoint(point(value, "type", type, "tenant", tenant, "result", name.substring("attempt_".length())));
                        case RETRY_SCHEDULED -> retries.dataPoint(point(value, "type", type, "tenant", tenant));
                        default -> finished.dataPoint(point(value, "type", type, "tenant", tenant, "state", name));
                    }
                }
                final long queueNanos = m.queueNanos(type, tenant);
                final long executionNanos = m.executionNanos(type, tenant);
                if (always || queueNanos != 0 || executionNanos != 0)
                {
                    queued.dataPoint(point(queueNanos / 1e9, "type", type, "tenant", tenant));
                    executed.dataPoint(point(executionNanos / 1e9, "type", type, "tenant", tenant));
                }
            }
        }
        all.metricSnapshot(submissions.build());
        all.metricSnapshot(attempts.build());
        all.metricSnapshot(retries.build());
        all.metricSnapshot(finished.build());
        all.metricSnapshot(queued.build());
        all.metricSnapshot(executed.build());
        final GaugeSnapshot.Builder waiting = GaugeSnapshot.builder().name("gyre_tasks_waiting")
            .help("Tasks waiting in the engine for a slot, by pool (PENDING).");
        final GaugeSnapshot.Builder running = GaugeSnapshot.builder().name("gyre_attempts_running")
            .help("Attempts holding a slot, by pool: running, or handed to a pool and waiting in its queue for a thread.");
        waiting.dataPoint(gaugePoint(m.gauge(EngineMetrics.Gauge.WAITING_INLINE), "pool", "inline"));
        waiting.dataPoint(gaugePoint(m.gauge(EngineMetrics.Gauge.WAITING_BLOCKING), "pool", "blocking"));
        waiting.dataPoint(gaugePoint(m.gauge(EngineMetrics.Gauge.WAITING_ASYNC), "pool", "async"));
        waiting.dataPoint(gaugePoint(m.gauge(EngineMetrics.Gauge.WAITING_CPU), "pool", "cpu"));
        running.dataPoint(gaugePoint(m.gauge(EngineMetrics.Gauge.RUNNING_BLOCKING), "pool", "blocking"));
        running.dataPoint(gaugePoint(m.gauge(EngineMetrics.Gauge.RUNNING_ASYNC), "pool", "async"));
        running.dataPoint(gaugePoint(m.gauge(EngineMetrics.Gauge.RUNNING_CPU), "pool", "cpu"));
        all.metricSnapshot(waiting.build());
        all.metricSnapshot(running.build());
        all.metricSnapshot(gauge("gyre_timers_pending", "Timers held: retries, attempt deadlines, held outcomes' releases (waits). A timer is not removed when its task finishes or is cancelled: it is dropped when due, or with the others of finished tasks at the first tick or cancel after the timers pass twice those kept the last time (and 4096).",
            m.gauge(EngineMetrics.Gauge.TIMERS)));
        all.metricSnapshot(gauge("gyre_retained_outcomes", "Finished tasks remembered for deduplication.",
            m.gauge(EngineMetrics.Gauge.RETAINED_OUTCOMES)));
        for (final EngineMetrics.Latency latency : EngineMetrics.Latency.values())
        {
            final SummarySnapshot.Builder summary = SummarySnapshot.builder()
                .name("gyre_task_" + latency.name().toLowerCase(Locale.ROOT) + "_seconds")
                .help(switch (latency)
                {
                    case QUEUE_WAIT -> "From acceptance to the first attempt's handler starting (the span the accounted queue time counts), by task type.";
                    case EXECUTION -> "An attempt's run, start to result, by task type (an attempt that ends without a result, "
                        + "timed out or cancelled, is not in it; gyre_accounted_execution_seconds_total counts it).";
                    case END_TO_END -> "From acceptance to the outcome's journal record, by task type.";
                });
            for (final String type : m.types())
            {
                summary.dataPoint(summaryPoint(m.latency(type, latency), Labels.of("type", type)));
            }
            all.metricSnapshot(summary.build());
        }
        all.metricSnapshot(SummarySnapshot.builder().name("gyre_journal_append_seconds")
            .help("Appending and committing one batch document to the journal.")
            .dataPoint(summaryPoint(m.journalAppend(), Labels.EMPTY)).build());
    }

    private static GaugeSnapshot.GaugeDataPointSnapshot gaugePoint(final double value, final String... labels)
    {
        return GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(Labels.of(labels)).value(value).build();
    }

    private static CounterSnapshot.CounterDataPointSnapshot point(final double value, final String... labels)
    {
        return CounterSnapshot.CounterDataPointSnapshot.builder().labels(Labels.of(labels)).value(value).build();
    }

    private static SummarySnapshot.SummaryDataPointSnapshot summaryPoint(final Histogram h, final Labels labels)
    {
        final Quantile[] quantiles = new Quantile[QUANTILES.length];
        for (int i = 0; i < QUANTILES.length; i++)
        {
            quantiles[i] = new Quantile(QUANTILES[i], h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(QUANTILES[i] * 100) / 1e9);
        }
        return SummarySnapshot.SummaryDataPointSnapshot.builder().labels(labels).count(h.getTotalCount())
            .sum(h.getTotalCount() == 0 ? 0 : h.getMean() * h.getTotalCount() / 1e9).quantiles(Quantiles.of(quantiles)).build();
    }

    private static GaugeSnapshot gauge(final String name, final String help, final double value)
    {
        return GaugeSnapshot.builder().name(name).help(help)
            .dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().value(value).build())
            .build();
    }

    private static CounterSnapshot counter(final String name, final String help, final double value)
    {
        return CounterSnapshot.builder().name(name).help(help)
            .dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().value(value).build())
            .build();
    }
}
