package io.gyre.engine;

/**
 * Where a {@link TaskHandler} reports its {@link TaskHandler#gauges gauges}: the monitoring endpoint turns them into
 * Prometheus gauges, one metric per name, one series per set of labels.
 */
@FunctionalInterface
public interface GaugeSink
{
    /**
     * @param name   a Prometheus metric name ({@code [a-zA-Z_:][a-zA-Z0-9_:]*}), the same for every series of it,
     *               e.g. {@code gyre_http_circuit_breaker_state}; any other is left out (not renamed), with a warning.
     * @param help   what it measures; the first help given for a name is kept.
     * @param value  its value now.
     * @param labels label names and values, alternating: {@code "host", "api.example.com:443"}; a name is
     *               {@code [a-zA-Z_][a-zA-Z0-9_]*} and does not start with {@code __} (Prometheus reserves those):
     *               a series with any other is left out, with a warning.
     */
    void gauge(String name, String help, double value, String... labels);
}
