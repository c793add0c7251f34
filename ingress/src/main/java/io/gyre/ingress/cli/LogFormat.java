package io.gyre.ingress.cli;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import ch.qos.logback.core.joran.util.ConfigurationWatchListUtil;
import picocli.CommandLine;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;

import java.net.URL;
import java.util.Locale;

/**
 * {@code --log-format}: how log lines look on stderr. The logback configuration (logback.xml) includes one file per
 * format, {@code gyre-log-text.xml} or {@code gyre-log-json.xml}, picked by the system property {@value #PROPERTY};
 * {@link #apply()} sets the property and, when that changes the format, has logback read its configuration again
 * (it was read when the first logger was made, before the option was parsed).
 */
enum LogFormat
{
    /**
     * One line of text; a task-level line ends with its fields: {@code taskId="42" type="echo" attempt="1" state="RUNNING"},
     * the message and the values escaped ({@link TextLog}).
     */
    TEXT,
    /** One JSON object a line (logstash-logback-encoder): timestamp, level, logger, thread, message, fields, stack trace. */
    JSON;

    /** The system property logback.xml reads to pick its appender. */
    static final String PROPERTY = "gyre.log.format";

    /**
     * @return the name on the command line and in {@value #PROPERTY}: text or json.
     */
    String option()
    {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Make this the format of every line logged from now on. Any thread; a no-op when it is the format already,
     * or when the logging backend is not logback or was not configured from a file (a user's own setup wins).
     *
     * @throws IllegalStateException when logback cannot read its configuration again.
     */
    void apply()
    {
        final String previous = System.getProperty(PROPERTY, TEXT.option());
        System.setProperty(PROPERTY, option());
        final ILoggerFactory factory = LoggerFactory.getILoggerFactory();
        if (previous.equals(option()) || !(factory instanceof LoggerContext context))
        {
            return;
        }
        final URL url = ConfigurationWatchListUtil.getMainWatchURL(context);
        if (url == null)
        {
            return;
        }
        final JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        context.reset();
        try
        {
            configurator.doConfigure(url);
        }
        catch (final JoranException ex)
        {
            throw new IllegalStateException("log-format=" + option() + ": cannot read the logging configuration " + url + " again: " +
                ex.getMessage(), ex);
        }
    }

    /** Parses {@code --log-format}: text or json, any case. */
    static final class Converter implements CommandLine.ITypeConverter<LogFormat>
    {
        @Override
        public LogFormat convert(final String value)
        {
            for (final LogFormat format : values())
            {
                if (format.option().equalsIgnoreCase(value.trim()))
                {
                    return format;
                }
            }
            throw new CommandLine.TypeConversionException("'" + value + "' is not a log format: text or json");
        }
    }
}
