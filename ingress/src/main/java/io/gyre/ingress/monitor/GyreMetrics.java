package io.gyre.ingress.monitor;

import io.gyre.engine.Engine;
import io.gyre.engine.RecoveryReport;
import io.gyre.ingress.server.GyreServer;
import io.gyre.ingress.server.ServerStats;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

/**
 * The engine's and the TCP server's figures as Prometheus metric snapshots, read when scraped: nothing is
 * recorded for them on the hot path (they are counters and levels the engine and server keep anyway).
 * <p>
 * Names follow Prometheus conventions: {@code gyre_} prefix, {@code _total} for counters (added by the
 * exposition format), base units (seconds, bytes).
 */
final class GyreMetrics
{
    private final Engine engine;
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
        if (server != null)
        {
            final ServerStats stats = server.stats();
            all.metricSnapshot(gauge("gyre_tcp_connections", "TCP connections open.", stats.openConnections()));
            all.metricSnapshot(counter("gyre_tcp_connections_accepted", "TCP connections accepted.", stats.connectionsAccepted()));
            all.metricSnapshot(counter("gyre_tcp_frames", "Frames received.", stats.frames()));
            all.metricSnapshot(counter("gyre_tcp_refusals", "Connections refused (over the connection limit).", stats.refusals()));
            all.metricSnapshot(counter("gyre_tcp_busy_rejections", "Submissions rejected BUSY because the engine was full.",
                stats.busyRejections()));
            all.metricSnapshot(counter("gyre_tcp_protocol_errors", "Connections closed for a protocol error.", stats.protocolErrors()));
            all.metricSnapshot(counter("gyre_tcp_auth_failures", "Handshakes refused for a wrong or missing token.", stats.authFailures()));
            all.metricSnapshot(gauge("gyre_tcp_in_flight", "Requests received and not yet answered, all connections.", server.inFlight()));
            all.metricSnapshot(gauge("gyre_tcp_pending_outbound_bytes", "Answer bytes queued for clients that have not read them yet.",
                server.pendingOutboundBytes()));
        }
        return all.build();
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
