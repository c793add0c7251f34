package io.gyre.ingress.cli;

import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import org.slf4j.event.KeyValuePair;

import java.util.List;

/**
 * The text log format's message and fields ({@code gyre-log-text.xml}), escaped so that one line is one entry and
 * every field reads back as what was logged. A task's key and a handler's failure message are what clients send:
 * written as they are, a line break in them would start a forged log line, and a {@code "} in a field's value
 * would end the value early and let the rest pass for fields of its own ({@code key="a" state="SUCCEEDED"}).
 * Logback's own {@code %kvp} quotes values without escaping them, and a {@code %replace} of line breaks cannot tell
 * {@code \r} from {@code \n} afterwards, nor a line break from a backslash followed by {@code n}.
 * <p>
 * The escapes are JSON's, so a reader can undo them with any JSON string decoder: {@code \\} for a backslash,
 * {@code \n}, {@code \r}, {@code \t}, a backslash, {@code u} and four hexadecimal digits (e.g. {@code 001b}) for any
 * other control character (C0, DEL, C1) and for
 * U+2028 and U+2029 (line and paragraph separators, which some viewers break lines at); in a field's value also
 * {@code \"}. A message's {@code "} is left as it is: the message is not quoted, and the fields after it are.
 */
public final class TextLog
{
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private TextLog()
    {
    }

    /**
     * {@code %gyreMessage}: the formatted message, escaped.
     */
    public static final class Message extends ClassicConverter
    {
        @Override
        public String convert(final ILoggingEvent event)
        {
            final String message = event.getFormattedMessage();
            if (message == null)
            {
                return "";
            }
            return needsEscaping(message, false) ? escape(new StringBuilder(message.length() + 16), message, false).toString() : message;
        }
    }

    /**
     * {@code %gyreFields}: the line's key-value pairs, each {@code  key="value"} after a space, escaped; nothing for
     * a line without any (no trailing space).
     */
    public static final class Fields extends ClassicConverter
    {
        @Override
        public String convert(final ILoggingEvent event)
        {
            final List<KeyValuePair> pairs = event.getKeyValuePairs();
            if (pairs == null || pairs.isEmpty())
            {
                return "";
            }
            final StringBuilder line = new StringBuilder(16 * pairs.size());
            for (final KeyValuePair pair : pairs)
            {
                line.append(' ');
                escape(line, String.valueOf(pair.key), true);
                line.append("=\"");
                escape(line, String.valueOf(pair.value), true);
                line.append('"');
            }
            return line.toString();
        }
    }

    /**
     * Append text to a line, escaped.
     *
     * @param quoted whether the text is a field's (quoted) value, whose {@code "} is escaped too.
     * @return the line.
     */
    static StringBuilder escape(final StringBuilder line, final String text, final boolean quoted)
    {
        for (int i = 0; i < text.length(); i++)
        {
            final char c = text.charAt(i);
            switch (c)
            {
                case '\\' -> line.append("\\\\");
                case '\n' -> line.append("\\n");
                case '\r' -> line.append("\\r");
                case '\t' -> line.append("\\t");
                case '"' -> line.append(quoted ? "\\\"" : "\"");
                default ->
                {
                    if (isEscapedAsUnicode(c))
                    {
                        line.append("\\u").append(HEX[c >>> 12 & 0xF]).append(HEX[c >>> 8 & 0xF]).append(HEX[c >>> 4 & 0xF])
                            .append(HEX[c & 0xF]);
                    }
                    else
                    {
                        line.append(c);
                    }
                }
            }
        }
        return line;
    }

    private static boolean needsEscaping(final String text, final boolean quoted)
    {
        for (int i = 0; i < text.length(); i++)
        {
            final char c = text.charAt(i);
            if (c == '\\' || (quoted && c == '"') || Character.isISOControl(c) || c == '\u2028' || c == '\u2029')
            {
                return true;
            }
        }
        return false;
    }

    private static boolean isEscapedAsUnicode(final char c)
    {
        return Character.isISOControl(c) || c == '\u2028' || c == '\u2029';
    }
}
