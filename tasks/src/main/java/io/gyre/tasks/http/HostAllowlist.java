package io.gyre.tasks.http;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * The hosts {@code http} tasks may call: the setting {@code http.allowed-hosts}, a comma-separated list of
 * entries, each a host name or IP literal (IPv6 in brackets), alone to allow every port of that host or
 * with {@code :port} to allow that port only. {@code *} alone allows every host. The default,
 * {@value #DEFAULT}, is loopback only.
 * <p>
 * An entry matches the URL's host as written, case-insensitively (IPv6 literals compared as addresses), not
 * the address the name resolves to: allowing a name trusts whoever answers for it in DNS. Redirects are not
 * followed, so a listed host cannot send a call elsewhere.
 * <p>
 * Immutable and thread-safe.
 */
final class HostAllowlist
{
    /** Loopback only: a submitted task cannot reach anything but this machine until an operator says so. */
    static final String DEFAULT = "localhost,127.0.0.1,[::1]";

    private static final String ALL = "*";

    private final String spec;
    private final boolean allowsAll;
    private final Set<String> anyPort;
    private final Set<String> hostAndPort;

    private HostAllowlist(final String spec, final boolean allowsAll, final Set<String> anyPort, final Set<String> hostAndPort)
    {
        this.spec = spec;
        this.allowsAll = allowsAll;
        this.anyPort = Set.copyOf(anyPort);
        this.hostAndPort = Set.copyOf(hostAndPort);
    }

    /**
     * @param setting the setting's name, for messages.
     * @param value the comma-separated entries.
     * @return the allowlist those entries describe.
     * @throws IllegalArgumentException naming the setting, its value and the malformed entry.
     */
    static HostAllowlist parse(final String setting, final String value)
    {
        final Set<String> anyPort = new HashSet<>();
        final Set<String> hostAndPort = new HashSet<>();
        boolean allowsAll = false;
        for (final String raw : value.split(",", -1))
        {
            final String entry = raw.trim();
            if (entry.isEmpty())
            {
                throw invalid(setting, value, "has an empty entry; list host names or IP addresses, or * for every host");
            }
            if (ALL.equals(entry))
            {
                allowsAll = true;
                continue;
            }
            if (entry.contains("://"))
            {
                throw invalid(setting, value, "entry \"" + entry + "\" is a URL; give the host alone (host or host:port)");
            }
            final boolean bracketed = entry.startsWith("[");
            final int hostEnd = bracketed ? entry.indexOf(']') + 1 : (entry.indexOf(':') < 0 ? entry.length() : entry.indexOf(':'));
            if (bracketed && hostEnd == 0)
            {
                throw invalid(setting, value, "entry \"" + entry + "\" opens an IPv6 bracket it does not close");
            }
            if (!bracketed && entry.indexOf(':') != entry.lastIndexOf(':'))
            {
                throw invalid(setting, value, "entry \"" + entry + "\": an IPv6 address goes in brackets ([::1])");
            }
            final String canonical = canonicalHost(entry.substring(0, hostEnd));
            if (canonical == null)
            {
                throw invalid(setting, value, "entry \"" + entry + "\" is not a host name or IP address");
            }
            final int port = parsePort(setting, value, entry, entry.substring(hostEnd));
            if (port < 0)
            {
                anyPort.add(canonical);
            }
            else
            {
                hostAndPort.add(canonical + ":" + port);
            }
        }
        return new HostAllowlist(value, allowsAll, anyPort, hostAndPort);
    }

    /**
     * @param host a URL's host as {@link java.net.URI#getHost()} gives it (IPv6 literals in brackets).
     * @param port the port the call goes to (the scheme's default when the URL gives none).
     * @return whether a call to it is allowed.
     */
    boolean allows(final String host, final int port)
    {
        if (allowsAll)
        {
            return true;
        }
        final String canonical = canonicalHost(host);
        return canonical != null && (anyPort.contains(canonical) || hostAndPort.contains(canonical + ":" + port));
    }

    /**
     * @return the setting's value, as given.
     */
    @Override
    public String toString()
    {
        return spec;
    }

    /**
     * @return the host lower-cased, IPv6 literals in brackets written in full; null when it is neither a host
     *     name nor an IP literal.
     */
    static String canonicalHost(final String host)
    {
        if (host == null || host.isEmpty())
        {
            return null;
        }
        if (host.startsWith("["))
        {
            if (!host.endsWith("]") || host.indexOf(':') < 0)
            {
                return null;
            }
            try
            {
                // in brackets the text must be an IPv6 literal: it is parsed, never looked up in DNS
                return "[" + InetAddress.getByName(host).getHostAddress() + "]";
            }
            catch (final UnknownHostException ex)
            {
                return null;
            }
        }
        for (int i = 0; i < host.length(); i++)
        {
            final char c = host.charAt(i);
            final boolean allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.' || c == '_';
            if (!allowed)
            {
                return null;
            }
        }
        return host.toLowerCase(Locale.ROOT);
    }

    private static int parsePort(final String setting, final String value, final String entry, final String suffix)
    {
        if (suffix.isEmpty())
        {
            return -1;
        }
        if (suffix.charAt(0) != ':')
        {
            throw invalid(setting, value, "entry \"" + entry + "\" has text after its host that is not :port");
        }
        try
        {
            final int port = Integer.parseInt(suffix.substring(1));
            if (port >= 1 && port <= 65_535)
            {
                return port;
            }
        }
        catch (final NumberFormatException ignored)
        {
            // reported below
        }
        throw invalid(setting, value, "entry \"" + entry + "\" has a port that is not a number in [1, 65535]");
    }

    private static IllegalArgumentException invalid(final String setting, final String value, final String why)
    {
        return new IllegalArgumentException(setting + "=" + value + " " + why);
    }
}
