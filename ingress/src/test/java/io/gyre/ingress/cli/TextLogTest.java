package io.gyre.ingress.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.event.KeyValuePair;

import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The text log format as {@code gyre} writes it, from the jar's own logback.xml (read into a context of this test's
 * own, {@code log-format=text}): a line a client's key or a handler's message may fill is still one line, and its
 * fields read back as what was logged, with no field forged and no character lost ({@code \r} stays {@code \r}).
 */
class TextLogTest
{
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A field as the text format writes it: a name, {@code =}, a quoted value with JSON's escapes. */
    private static final Pattern FIELD = Pattern.compile(" (\\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    private final LoggerContext context = new LoggerContext();
    private ch.qos.logback.core.encoder.Encoder<ILoggingEvent> encoder;

    @BeforeEach
    void configure() throws Exception
    {
        final URL url = TextLogTest.class.getClassLoader().getResource("logback.xml");
        assertThat(url).as("gyre's logback.xml on the class path").isNotNull();
        context.putProperty(LogFormat.PROPERTY, LogFormat.TEXT.option());
        final JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        configurator.doConfigure(url);
        final Appender<ILoggingEvent> appender = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getAppender("STDERR");
        assertThat(appender).isInstanceOf(OutputStreamAppender.class);
        encoder = ((OutputStreamAppender<ILoggingEvent>)appender).getEncoder();
    }

    @AfterEach
    void stop()
    {
        context.stop();
    }

    @Test
    void shouldEscapeEveryFieldValueSoThatNoneEndsEarlyOrBreaksTheLine() throws Exception
    {
        final String key = "nl\nkey\"q\u2028x\r2";
        final String line = line("the handler failed the attempt: never", key);

        assertThat(line).endsWith(" key=\"nl\\nkey\\\"q\\u2028x\\r2\" type=\"set\" attempt=\"1\" state=\"RUNNING\"")
            .doesNotContain("\n", "\r", "\u2028");
        assertThat(fields(line)).containsExactly(
            Map.entry("taskId", "42"), Map.entry("key", key), Map.entry("type", "set"), Map.entry("attempt", "1"),
            Map.entry("state", "RUNNING"));
    }

    @Test
    void shouldNotLetAKeyForgeFields() throws Exception
    {
        final String key = "a\" state=\"SUCCEEDED";
        final String line = line("the handler failed the attempt: never", key);

        assertThat(line).contains(" key=\"a\\\" state=\\\"SUCCEEDED\" ");
        final Map<String, String> fields = fields(line);
        assertThat(fields).containsEntry("key", key).containsEntry("state", "RUNNING").hasSize(5);
    }

    @Test
    void shouldEscapeBackslashesAndControlCharactersSoThatEachReadsBackAsItself() throws Exception
    {
        // a key holding a backslash and an n is not a key holding a line break; a tab, a NUL, an ESC, DEL, a C1 NEL and
        // U+2029 are all written as escapes, never raw
        final String key = "back\\n\tnul\u0000esc\u001b[31mdel\u007fnel\u0085para\u2029end";
        final String line = line("message", key);

        assertThat(line).contains(" key=\"back\\\\n\\tnul\\u0000esc\\u001b[31mdel\\u007fnel\\u0085para\\u2029end\" ");
        assertThat(line.chars()).noneMatch(c -> Character.isISOControl(c) || c == '\u2028' || c == '\u2029');
        assertThat(fields(line)).containsEntry("key", key);
    }

    @Test
    void shouldEscapeLineBreaksInTheMessageKeepingItsQuotes() throws Exception
    {
        final String line = line("the handler failed the attempt: values[\"a\\n\"]: one\rtwo\nthree\r\nfour\u2028five", "k");

        assertThat(line).contains(" - the handler failed the attempt: values[\"a\\\\n\"]: one\\rtwo\\nthree\\r\\nfour\\u2028five taskId=\"42\" key=\"k\" ")
            .doesNotContain("\n", "\r", "\u2028");
    }

    @Test
    void shouldEndALineWithoutFieldsWithItsMessage() throws Exception
    {
        final LoggingEvent event = event("engine open on /tmp/j");

        assertThat(encode(event)).endsWith(" - engine open on /tmp/j" + System.lineSeparator());
    }

    @Test
    void shouldStillWriteAStackTraceOnLinesOfItsOwn() throws Exception
    {
        final LoggingEvent event = event("the handler threw java.lang.IllegalStateException");
        event.setThrowableProxy(new ch.qos.logback.classic.spi.ThrowableProxy(new IllegalStateException("boom")));

        final String text = encode(event);
        assertThat(text.lines().findFirst().orElseThrow()).endsWith(" - the handler threw java.lang.IllegalStateException");
        assertThat(text).contains(System.lineSeparator() + "java.lang.IllegalStateException: boom" + System.lineSeparator());
    }

    /**
     * @return the line logged at DEBUG with this message and a task's five fields, this key among them, without its
     *     line separator (after asserting there is exactly one, at its end).
     */
    private String line(final String message, final String key)
    {
        final LoggingEvent event = event(message);
        event.addKeyValuePair(new KeyValuePair("taskId", 42L));
        event.addKeyValuePair(new KeyValuePair("key", key));
        event.addKeyValuePair(new KeyValuePair("type", "set"));
        event.addKeyValuePair(new KeyValuePair("attempt", 1));
        event.addKeyValuePair(new KeyValuePair("state", "RUNNING"));
        final String text = encode(event);
        assertThat(text).endsWith(System.lineSeparator());
        final String line = text.substring(0, text.length() - System.lineSeparator().length());
        assertThat(line).as("one line: %s", text).doesNotContain(System.lineSeparator());
        return line;
    }

    private LoggingEvent event(final String message)
    {
        return new LoggingEvent(TextLogTest.class.getName(), context.getLogger("io.gyre.engine.AttemptContext"), Level.DEBUG, message,
            null, null);
    }

    private String encode(final ILoggingEvent event)
    {
        return new String(encoder.encode(event), StandardCharsets.UTF_8);
    }

    /** @return the fields at the end of a line, each value unescaped as the JSON string it is written as. */
    private static Map<String, String> fields(final String line) throws Exception
    {
        final Map<String, String> fields = new LinkedHashMap<>();
        final int start = line.indexOf(" taskId=");
        final Matcher matcher = FIELD.matcher(line).region(start, line.length());
        int end = start;
        while (matcher.find() && matcher.start() == end)
        {
            fields.put(matcher.group(1), JSON.readValue("\"" + matcher.group(2) + "\"", String.class));
            end = matcher.end();
        }
        assertThat(end).as("the fields run to the end of: %s", line).isEqualTo(line.length());
        return fields;
    }
}
