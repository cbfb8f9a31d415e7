using System.Net;

namespace KcpKestrel.Transport.Kcp;

/// <summary>
/// A UDP endpoint that speaks KCP. Kestrel hands endpoints of this type to the KCP listener
/// factory and keeps plain <see cref="IPEndPoint"/>s for its sockets transport, so both can
/// serve the same host.
/// </summary>
/// <remarks>
/// Deliberately not an <see cref="IPEndPoint"/>: Kestrel's sockets transport binds every
/// <see cref="IPEndPoint"/>, and a subclass would let it steal KCP endpoints.
/// </remarks>
public sealed class KcpEndPoint : EndPoint
{
    /// <summary>Creates a KCP endpoint for an IP address and UDP port (0 picks a free port at bind).</summary>
    /// <param name="address">The address to bind or dial.</param>
    /// <param name="port">The UDP port, 0 to 65535.</param>
    public KcpEndPoint(IPAddress address, int port)
        : this(new IPEndPoint(address ?? throw new ArgumentNullException(nameof(address)), port))
    {
    }

    /// <summary>Creates a KCP endpoint over an IP endpoint.</summary>
    /// <param name="ipEndPoint">The UDP address and port.</param>
    public KcpEndPoint(IPEndPoint ipEndPoint)
    {
        ArgumentNullException.ThrowIfNull(ipEndPoint);
        IPEndPoint = ipEndPoint;
    }

    /// <summary>The UDP address and port.</summary>
    public IPEndPoint IPEndPoint { get; }

    /// <summary>
    /// Settings of this endpoint, applied at bind time over the transport's defaults
    /// (<see cref="KcpTransportOptions.Defaults"/>, bound from the <c>Kcp</c> configuration section).
    /// </summary>
    public Action<KcpOptions>? Configure { get; init; }

    /// <inheritdoc />
    public override System.Net.Sockets.AddressFamily AddressFamily => IPEndPoint.AddressFamily;

    /// <summary>Parses <c>host:port</c> or <c>[v6]:port</c>, as <see cref="IPEndPoint.Parse(string)"/> does.</summary>
    /// <param name="value">The text to parse.</param>
    /// <returns>The endpoint.</returns>
    /// <exception cref="FormatException">The text is not an IP address with a port.</exception>
    public static KcpEndPoint Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!IPEndPoint.TryParse(value, out var ip) || !HasPort(value))
        {
            throw new FormatException($"'{value}' is not a KCP endpoint; expected ADDRESS:PORT, for example 127.0.0.1:4000 or [::1]:4000.");
        }

        return new KcpEndPoint(ip);
    }

    /// <inheritdoc />
    public override string ToString() => "kcp://" + IPEndPoint;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is KcpEndPoint other && other.IPEndPoint.Equals(IPEndPoint);

    /// <inheritdoc />
    public override int GetHashCode() => IPEndPoint.GetHashCode();

    private static bool HasPort(string value)
    {
        // An IPv6 literal needs brackets to carry a port: "::1" alone is an address without one.
        return value.StartsWith('[')
            ? value.Contains("]:", StringComparison.Ordinal)
            : value.IndexOf(':') is > 0 and var colon && colon == value.LastIndexOf(':');
    }
}
