package io.gyre.tasks.http;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * One circuit breaker per host ({@code host:port}), made on the first call to it and kept for the handler's
 * life. A breaker is CLOSED (calls go through, outcomes counted), OPEN (calls refused without touching the
 * network, for {@code breaker.wait-in-open-ms}) or HALF_OPEN (a few trial calls go through; all succeeding
 * closes it, the failure rate reaching the threshold opens it again). Built on Resilience4j's count-based
 * state machine; nothing runs on a timer: an OPEN breaker turns HALF_OPEN when a call asks after the wait.
 * <p>
 * Thread-safe: permissions are taken on the engine's execute stage and outcomes recorded on the client's
 * threads.
 */
final class HostBreakers
{
    private static final Logger LOG = LoggerFactory.getLogger(HostBreakers.class);

    private final CircuitBreakerConfig config;
    private final ConcurrentHashMap<String, HostBreaker> byHost = new ConcurrentHashMap<>();
    /** The most breakers kept (and series on /metrics): past it, the closed ones least recently used make room. */
    private final int maxHosts;

    HostBreakers(final HttpSettings settings)
    {
        maxHosts = settings.breakerMaxHosts();
        config = CircuitBreakerConfig.custom()
            .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
            .slidingWindowSize(settings.breakerSlidingWindowSize())
            .minimumNumberOfCalls(settings.breakerMinimumCalls())
            .failureRateThreshold(settings.breakerFailureRatePercent())
            .waitDurationInOpenState(Duration.ofMillis(settings.breakerWaitInOpenMillis()))
            .permittedNumberOfCallsInHalfOpenState(settings.breakerHalfOpenCalls())
            .automaticTransitionFromOpenToHalfOpenEnabled(false)
            // slowness is the request timeout's business: no call is slow enough to count as a failure here
            .slowCallDurationThreshold(Duration.ofMillis(2L * HttpSettings.MAX_TIMEOUT_MS))
            .writableStackTraceEnabled(false)
            .build();
    }

    /**
     * @param host {@code host:port}, as {@link HttpTaskInput#host()} gives it.
     * @return that host's breaker.
     */
    HostBreaker forHost(final String host)
    {
        final HostBreaker breaker = byHost.get(host);
        if (breaker != null)
        {
            return breaker;
        }
        if (byHost.size() >= maxHosts)
        {
            makeRoom();
        }
        return byHost.computeIfAbsent(host, this::create);
    }

    /**
     * A tenant naming host after host (every port of an allowed name) must not grow the breakers, and their series on
     * /metrics, without bound: once {@code breaker.max-hosts} are kept, an eighth of them go, the CLOSED ones least
     * recently used first (a breaker made again starts closed, with an empty window, which a closed one is nearly), then
     * open and half-open ones, least recently used first, when there are not enough closed ones.
     */
    private synchronized void makeRoom()
    {
        if (byHost.size() < maxHosts)
        {
            return;
        }
        final java.util.List<HostBreaker> closed = new java.util.ArrayList<>();
        final java.util.List<HostBreaker> others = new java.util.ArrayList<>();
        for (final HostBreaker breaker : byHost.values())
        {
            (breaker.state() == CircuitBreaker.State.CLOSED ? closed : others).add(breaker);
        }
        // closed ones first, least recently called first; then, when every one kept is open (a tenant naming dead port
        // after dead port could fill them all and so keep every tenant from any other host: an outside check did), the
        // open ones least recently called: a host dropped that way is called again, and its breaker opens again if it
        // still fails, where refusing every new host would let one tenant stop all the others
        final java.util.Comparator<HostBreaker> leastRecent = java.util.Comparator.comparingLong(b -> b.lastUsedNanos);
        closed.sort(leastRecent);
        others.sort(leastRecent);
        final java.util.List<HostBreaker> dropOrder = new java.util.ArrayList<>(closed);
        dropOrder.addAll(others);
        final int evict = Math.min(dropOrder.size(), Math.max(1, maxHosts / 8));
        for (int i = 0; i < evict; i++)
        {
            byHost.remove(dropOrder.get(i).host, dropOrder.get(i));
        }
        LOG.info("http circuit breakers: {} hosts kept (breaker.max-hosts); the {} least recently called were dropped ({} of them not closed)",
            maxHosts, evict, Math.max(0, evict - closed.size()));
    }

    /**
     * @return the host's breaker state, or null when no call has gone to it.
     */
    CircuitBreaker.State state(final String host)
    {
        final HostBreaker breaker = byHost.get(host);
        return breaker == null ? null : breaker.breaker.getState();
    }

    /**
     * Reports each host's breaker state as {@code gyre_http_circuit_breaker_state{host, state}}: 1 for the state it
     * is in, 0 for the others (the Prometheus way of exposing an enumeration). Any thread.
     */
    void gauges(final io.gyre.engine.GaugeSink sink)
    {
        byHost.forEach((host, breaker) ->
        {
            final CircuitBreaker.State now = breaker.breaker.getState();
            for (final CircuitBreaker.State state : REPORTED)
            {
                sink.gauge("gyre_http_circuit_breaker_state",
                    "State of the circuit breaker in front of each host http tasks have called: 1 for the state it is in.",
                    now == state ? 1 : 0, "host", host, "state", state.name().toLowerCase(java.util.Locale.ROOT));
            }
        });
    }

    private static final CircuitBreaker.State[] REPORTED =
        {CircuitBreaker.State.CLOSED, CircuitBreaker.State.OPEN, CircuitBreaker.State.HALF_OPEN};

    private HostBreaker create(final String host)
    {
        final CircuitBreaker breaker = CircuitBreaker.of("http " + host, config);
        final HostBreaker hostBreaker = new HostBreaker(host, breaker);
        breaker.getEventPublisher().onStateTransition(event ->
        {
            final CircuitBreaker.StateTransition transition = event.getStateTransition();
            if (transition.getToState() == CircuitBreaker.State.OPEN)
            {
                final Opening opening = new Opening(System.nanoTime(), breaker.getMetrics().getFailureRate(),
                    breaker.getMetrics().getNumberOfBufferedCalls());
                hostBreaker.opening = opening;
                LOG.warn("http circuit breaker for {}: {} -> OPEN, failure rate {}% of the last {} calls; calls refused for {} ms",
                    host, transition.getFromState(), opening.failureRate(), opening.calls(),
                    config.getWaitIntervalFunctionInOpenState().apply(1));
            }
            else
            {
                LOG.info("http circuit breaker for {}: {} -> {}", host, transition.getFromState(), transition.getToState());
            }
        });
        return hostBreaker;
    }

    /**
     * Why and when a breaker last opened: the failure rate of its window at that moment and the calls in it. The
     * window's rate moves on while the breaker is open (calls let through before it opened still finish and are
     * counted), so a refusal quotes this, not the rate of now.
     */
    private record Opening(long atNanos, float failureRate, int calls)
    {
    }

    /**
     * One host's breaker. Every permission taken with {@link #tryAcquire()} must be given back exactly once,
     * by {@link #recordSuccess}, {@link #recordFailure} or {@link #release}: a half-open breaker waits for
     * its trial calls' outcomes.
     */
    static final class HostBreaker
    {
        private final String host;
        private final CircuitBreaker breaker;
        /** Set when the breaker opens, on the thread whose outcome opened it, under the lock; null until it first opens. */
        private volatile Opening opening;
        /** When a call last asked (for {@link HostBreakers#makeRoom}). */
        private volatile long lastUsedNanos = System.nanoTime();

        private HostBreaker(final String host, final CircuitBreaker breaker)
        {
            this.host = host;
            this.breaker = breaker;
        }

        /**
         * @return whether a call may go to the host now.
         */
        boolean tryAcquire()
        {
            lastUsedNanos = System.nanoTime();
            return breaker.tryAcquirePermission();
        }

        /**
         * The host answered in a way that says nothing against it (any status but 5xx and 429).
         * <p>
         * Outcomes are recorded one at a time (this and {@link #recordFailure} hold the breaker's lock): the outcome
         * that opens the breaker reads the window's failure rate, on its own thread, after Resilience4j's decision, and
         * another call's outcome counted in between made it quote a rate under the threshold (an outside check saw
         * "opened at 95.0% ... threshold 100.0%"). A lock per call's outcome is nothing beside the call.
         */
        synchronized void recordSuccess(final long durationNanos)
        {
            breaker.onSuccess(durationNanos, TimeUnit.NANOSECONDS);
        }

        /**
         * The host could not be reached, did not answer in time, or answered 5xx or 429.
         */
        synchronized void recordFailure(final long durationNanos, final Throwable cause)
        {
            breaker.onError(durationNanos, TimeUnit.NANOSECONDS, cause);
        }

        /**
         * The call was abandoned before the host's answer (the engine stopped the attempt): it counts neither
         * way.
         */
        synchronized void release()
        {
            breaker.releasePermission();
        }

        /**
         * Closes the breaker and empties its window, as though no call had gone to the host (tests).
         */
        synchronized void reset()
        {
            breaker.reset();
        }

        CircuitBreaker.State state()
        {
            return breaker.getState();
        }

        /**
         * @return why {@link #tryAcquire()} refused, for the attempt's failure message. Under the lock of the outcomes,
         *     so that a breaker another call's outcome has just opened is quoted with its own opening, not the last one.
         */
        synchronized String refusal()
        {
            final CircuitBreaker.State state = breaker.getState();
            final CircuitBreaker.Metrics metrics = breaker.getMetrics();
            final CircuitBreakerConfig config = breaker.getCircuitBreakerConfig();
            if (state == CircuitBreaker.State.HALF_OPEN)
            {
                return "circuit breaker for " + host + " is HALF_OPEN and its " + config.getPermittedNumberOfCallsInHalfOpenState() +
                    " trial calls are in flight: not calling " + host;
            }
            final long waitMillis = config.getWaitIntervalFunctionInOpenState().apply(1);
            // opened by an outcome, which said why under this lock; or never opened (forced open): the window's rate
            final Opening known = opening;
            final Opening last = known != null ? known :
                new Opening(System.nanoTime(), metrics.getFailureRate(), metrics.getNumberOfBufferedCalls());
            final long openForMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - last.atNanos());
            return "circuit breaker for " + host + " is " + state + " (opened at a failure rate of " + last.failureRate() + "% of the last " +
                last.calls() + " calls, threshold " + config.getFailureRateThreshold() + "%): not calling " + host +
                "; trial calls in " + Math.max(0, waitMillis - openForMillis) + " ms";
        }
    }
}
