package io.gyre.ingress.testing;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fails a test when Netty's leak detector, at PARANOID (every buffer tracked), reports a buffer that was
 * never released. Netty reports a leak when it finds a collected, unreleased buffer while tracking a new
 * one: after each test this collects garbage and allocates, so leaks of the test surface in the test.
 */
public final class LeakCheck implements BeforeAllCallback, AfterEachCallback
{
    private static final List<String> LEAKS = new CopyOnWriteArrayList<>();
    private static volatile boolean installed;

    @Override
    public void beforeAll(final ExtensionContext context)
    {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        if (!installed)
        {
            synchronized (LeakCheck.class)
            {
                if (!installed)
                {
                    final Logger logger = (Logger)LoggerFactory.getLogger(ResourceLeakDetector.class);
                    final AppenderBase<ILoggingEvent> appender = new AppenderBase<>()
                    {
                        @Override
                        protected void append(final ILoggingEvent event)
                        {
                            if (event.getFormattedMessage().contains("LEAK"))
                            {
                                LEAKS.add(event.getFormattedMessage());
                            }
                        }
                    };
                    appender.setContext(logger.getLoggerContext());
                    appender.start();
                    logger.addAppender(appender);
                    logger.setLevel(ch.qos.logback.classic.Level.ERROR);
                    installed = true;
                }
            }
        }
    }

    @Override
    public void afterEach(final ExtensionContext context) throws InterruptedException
    {
        for (int round = 0; round < 3; round++)
        {
            System.gc();
            Thread.sleep(20);
            for (int i = 0; i < 64; i++)
            {
                final ByteBuf pooled = PooledByteBufAllocator.DEFAULT.directBuffer(16);
                pooled.release();
                final ByteBuf heap = UnpooledByteBufAllocator.DEFAULT.heapBuffer(16);
                heap.release();
            }
        }
        final List<String> found = List.copyOf(LEAKS);
        LEAKS.clear();
        assertThat(found).as("Netty buffers leaked (never released)").isEmpty();
    }
}
