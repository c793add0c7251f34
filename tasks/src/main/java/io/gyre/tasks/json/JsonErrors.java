package io.gyre.tasks.json;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;

/**
 * Jackson's parse errors as a task's failure message says them: without the parser's internals (the feature
 * that refused a duplicate member, the source description), so every JSON-reading task type words them alike.
 */
public final class JsonErrors
{
    private static final String DUPLICATE = "Duplicate field '";
    private static final String TRAILING = "Trailing token (of type ";
    private static final String BROKEN_SURROGATE_NAME = "Broken surrogate pair in field name";
    private static final String LOW_SURROGATE_NAME = "Unexpected low surrogate in field name";
    private static final java.util.regex.Pattern NAME_LENGTH =
        java.util.regex.Pattern.compile("Name length \\(\\d+\\) exceeds the maximum allowed \\((\\d+)");
    private static final String SURROGATE_RANGE = "\\uD800-\\uDFFF";

    /** Characters of a number quoted whole in a message; a longer one is cut in the middle. */
    private static final int QUOTED_DIGITS = 40;

    private JsonErrors()
    {
    }

    /**
     * @param originalMessage Jackson's {@code getOriginalMessage()} (no location).
     * @return the message, with a duplicate member named rather than the feature that refused it, and a limit
     *     without the Jackson method that holds it.
     */
    public static String plain(final String originalMessage)
    {
        final String message = String.valueOf(originalMessage);
        if (message.startsWith(TRAILING))
        {
            // "Trailing token (of type START_OBJECT) found after value (bound as `...JsonNode`): not allowed as per
            // `DeserializationFeature.FAIL_ON_TRAILING_TOKENS`"
            return "more than one value in the payload";
        }
        if (message.startsWith(BROKEN_SURROGATE_NAME) || message.startsWith(LOW_SURROGATE_NAME))
        {
            return "a member name has an unpaired UTF-16 surrogate escape (" + SURROGATE_RANGE + " not in a high-low " +
                "pair): not Unicode text";
        }
        final java.util.regex.Matcher nameLength = NAME_LENGTH.matcher(message);
        if (nameLength.lookingAt())
        {
            // Jackson's count is how far it had read when it stopped (65536), not the name's length
            return "a member name is longer than the maximum of " + nameLength.group(1) + " characters";
        }
        final int duplicate = message.indexOf(DUPLICATE);
        if (duplicate >= 0)
        {
            final int end = message.indexOf('\'', duplicate + DUPLICATE.length());
            if (end > 0)
            {
                return "member '" + message.substring(duplicate + DUPLICATE.length(), end) + "' appears twice";
            }
        }
        // a limit's message names the Jackson method that holds it: "(1000, from `StreamReadConstraints.get...()`)";
        // and some messages carry a location of their own, with a note about Jackson's settings: "(start marker at
        // [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 1])"
        return controlsEscaped(message.replaceAll(", from `[^`]*`", "")
            .replaceAll("\\[Source: [^;\\]]*; line: (\\d+), column: (\\d+)\\]", "line $1, column $2"));
    }

    private static void escape(final char c, final StringBuilder out)
    {
        switch (c)
        {
            case '"', '\\' -> out.append('\\').append(c);
            case '\n' -> out.append("\\n");
            case '\r' -> out.append("\\r");
            case '\t' -> out.append("\\t");
            default -> out.append(control(c) ? String.format("\\u%04X", (int)c) : String.valueOf(c));
        }
    }

    private static int escapedLength(final String text)
    {
        int length = 0;
        for (int i = 0; i < text.length(); i++)
        {
            final char c = text.charAt(i);
            length += c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' ? 2 : control(c) ? 6 : 1;
        }
        return length;
    }

    /** Whether a message must not carry this character raw: C0 and C1 controls, DEL, and the line and paragraph separators. */
    static boolean control(final char c)
    {
        return c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == '\u2028' || c == '\u2029';
    }

    /**
     * @return the text (a parser's message, or a host's words, quoting the input) with each {@link #control} character
     *     as a backslash, {@code u} and four hex digits ({@code \\u001B} for ESC): a message must not carry a raw line
     *     break or terminal escape into a log, a terminal or a client's output.
     */
    public static String controlsEscaped(final String text)
    {
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++)
        {
            final char c = text.charAt(i);
            if (control(c))
            {
                if (out == null)
                {
                    out = new StringBuilder(text.length() + 16).append(text, 0, i);
                }
                out.append(String.format("\\u%04X", (int)c));
            }
            else if (out != null)
            {
                out.append(c);
            }
        }
        return out == null ? text : out.toString();
    }

    /**
     * Find the first number of a payload that Jackson reads (its syntax is JSON's) but cannot make a
     * {@link java.math.BigDecimal} of ({@code 1e2147483648}: the exponent overflows an {@code int}). A tree reader
     * that keeps decimals throws a bare {@link NumberFormatException} for it, which says neither where it is nor
     * that the payload is at fault; a handler that catches one calls this, on a new parser of the same payload,
     * to say both. Only a failing payload is read this second time.
     *
     * @param parser a parser at the payload's start.
     * @return the field the number is in ({@code values["/a"]}, {@code ops[0].value.v}, {@code payload} for the
     *     whole payload) and what is wrong with it, or null when every number reads.
     * @throws IOException when the payload is not JSON before such a number.
     */
    public static Unrepresentable findUnrepresentableNumber(final JsonParser parser) throws IOException
    {
        for (JsonToken token = parser.nextToken(); token != null; token = parser.nextToken())
        {
            if (token == JsonToken.VALUE_NUMBER_FLOAT || token == JsonToken.VALUE_NUMBER_INT)
            {
                try
                {
                    if (token == JsonToken.VALUE_NUMBER_FLOAT)
                    {
                        parser.getDecimalValue();
                    }
                    else
                    {
                        parser.getBigIntegerValue();
                    }
                }
                catch (final NumberFormatException | ArithmeticException ex)
                {
                    return new Unrepresentable(field(parser.getParsingContext()),
                        "number " + shortened(parser.getText()) + " cannot be represented: " + reason(ex));
                }
            }
        }
        return null;
    }

    /**
     * Find the first string value of a payload with an unpaired UTF-16 surrogate: an escape of a high surrogate not
     * followed by one of a low, or of a low one alone (<code>"&#92;ud800"</code>). JSON's syntax allows it, but it is not
     * Unicode text (no UTF-8 encodes it); Jackson refuses one in a member name, and a task refuses one in a value
     * alike rather than accept a value it would refuse as a name.
     *
     * @param parser a parser at the payload's start.
     * @return the field the string is in and what is wrong with it, or null when every string is Unicode text.
     * @throws IOException when the payload is not JSON before such a string.
     */
    public static Unrepresentable findUnpairedSurrogate(final JsonParser parser) throws IOException
    {
        for (JsonToken token = parser.nextToken(); token != null; token = parser.nextToken())
        {
            if (token == JsonToken.VALUE_STRING)
            {
                final int at = unpairedSurrogate(parser.getTextCharacters(), parser.getTextOffset(), parser.getTextLength());
                if (at >= 0)
                {
                    final char c = parser.getTextCharacters()[parser.getTextOffset() + at];
                    return new Unrepresentable(field(parser.getParsingContext()), "a string has an unpaired UTF-16 " +
                        "surrogate escape (" + String.format("\\u%04X", (int)c) + " at index " + at + "): not Unicode text");
                }
            }
        }
        return null;
    }

    /**
     * @return the index of the first unpaired surrogate in the characters, or -1 when there is none.
     */
    public static int unpairedSurrogate(final char[] text, final int start, final int length)
    {
        final int end = start + length;
        for (int i = start; i < end; i++)
        {
            final char c = text[i];
            if (Character.isSurrogate(c))
            {
                if (Character.isHighSurrogate(c) && i + 1 < end && Character.isLowSurrogate(text[i + 1]))
                {
                    i++;
                }
                else
                {
                    return i - start;
                }
            }
        }
        return -1;
    }

    /**
     * A number of a payload that cannot be read as a decimal.
     *
     * @param field the field it is in, as the handlers' messages name fields.
     * @param reason what is wrong: {@code number 1e2147483648 cannot be represented: exponent overflow}.
     */
    public record Unrepresentable(String field, String reason)
    {
    }

    /**
     * @return the field a parser's context is in: its top-level member bare, then {@code [2]} for an element of an
     *     array, {@code .name} for a member whose name is letters, digits, {@code _} and {@code -}, and
     *     {@code ["/a b"]} for any other; {@code payload} at the root.
     */
    private static String field(final JsonStreamContext context)
    {
        final java.util.ArrayDeque<String> segments = new java.util.ArrayDeque<>();
        for (JsonStreamContext at = context; at != null && !at.inRoot(); at = at.getParent())
        {
            final boolean topLevel = at.getParent() == null || at.getParent().inRoot();
            if (at.inArray())
            {
                segments.push(topLevel ? "payload[" + at.getCurrentIndex() + "]" : "[" + at.getCurrentIndex() + "]");
            }
            else
            {
                final String name = String.valueOf(at.getCurrentName());
                segments.push(topLevel ? fieldName(name) : plainName(name) ? "." + name : "[" + quote(name) + "]");
            }
        }
        return segments.isEmpty() ? "payload" : String.join("", segments);
    }

    private static boolean plainName(final String name)
    {
        if (name.isEmpty())
        {
            return false;
        }
        for (int i = 0; i < name.length(); i++)
        {
            final char c = name.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'))
            {
                return false;
            }
        }
        return true;
    }

    /** Characters of a text a message quotes whole; a longer one is cut (its reason comes after it in the message). */
    static final int QUOTED_CHARACTERS = 120;

    /**
     * @return the text as a JSON string literal, quotes included, for a message: control characters escaped (a message
     *     must not carry a raw line feed or terminal escape into a log or a terminal), and a text over
     *     {@value #QUOTED_CHARACTERS} characters cut, saying how long it was, so that what the message says of it still
     *     fits the 1,024 bytes an error keeps.
     */
    public static String quote(final String text)
    {
        // escaped character by character, and cut once the escaped text reaches QUOTED_CHARACTERS - 20: an escape counts
        // for its six characters, so that however the text is made, a quote stays short and the reason after it fits
        final StringBuilder out = new StringBuilder(Math.min(text.length(), QUOTED_CHARACTERS) + 24).append('"');
        final boolean cut = escapedLength(text) > QUOTED_CHARACTERS;
        final int limit = QUOTED_CHARACTERS - 20;
        int i = 0;
        for (; i < text.length(); i++)
        {
            final char c = text.charAt(i);
            if (cut && out.length() - 1 >= limit && !Character.isLowSurrogate(c))
            {
                break;
            }
            escape(c, out);
        }
        if (i == text.length())
        {
            return out.append('"').toString();
        }
        return out.append("\u2026\" (").append(text.codePointCount(0, text.length())).append(" characters)").toString();
    }

    /**
     * @return a text for a message as {@link #quote} gives it, without the quotes (another library's message that
     *     quotes the task's input: control characters escaped, and cut when long).
     */
    public static String escaped(final String text)
    {
        final String quoted = quote(text == null ? "null" : text);
        final int close = quoted.lastIndexOf('"');
        return quoted.substring(1, close) + quoted.substring(close + 1);
    }

    /**
     * @return a member name as the field of a message ({@code name: what is wrong}): as it is when it is a plain
     *     name, else {@link #quote quoted}.
     */
    public static String fieldName(final String name)
    {
        return plainName(name) && name.length() <= QUOTED_CHARACTERS ? name : quote(name);
    }

    private static String shortened(final String number)
    {
        return number.length() <= QUOTED_DIGITS ? number :
            number.substring(0, QUOTED_DIGITS / 2) + "..." + number.substring(number.length() - QUOTED_DIGITS / 2) +
                " (" + number.length() + " characters)";
    }

    /**
     * @return the reason Jackson gives ({@code ..., reason: Exponent overflow.}) as a message's tail says it.
     */
    private static String reason(final RuntimeException ex)
    {
        final String message = String.valueOf(ex.getMessage());
        final int at = message.lastIndexOf("reason:");
        String reason = (at >= 0 ? message.substring(at + "reason:".length()) : message).trim();
        if (reason.endsWith("."))
        {
            reason = reason.substring(0, reason.length() - 1);
        }
        if (reason.isEmpty())
        {
            return "not a decimal";
        }
        return Character.toLowerCase(reason.charAt(0)) + reason.substring(1);
    }
}
