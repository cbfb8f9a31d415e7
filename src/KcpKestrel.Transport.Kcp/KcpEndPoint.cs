using System.Net;

namespace KcpKestrel.Transport.Kcp;

/// <summary>
/// A UDP endpoint that speaks KCP. Kestrel hands endpoints of this type to the KCP listener
/// factory and keeps plain <see cref="IPEndPoint"/>s for its sockets transport, so both can
/// serve the same host.
/// </summary>
/// <remarks>
/// <para>
/// An endpoint may span a range of ports, as current kcptun's <c>IP:minport-maxport</c>: a listener binds every port
/// of it, and a client dials each new KCP session to a port drawn at random from it (see <see cref="MaxPort"/>).
/// </para>
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
        MaxPort = ipEndPoint.Port;
    }

    /// <summary>
    /// Creates a KCP endpoint over the ports <paramref name="minPort"/> to <paramref name="maxPort"/> (kcptun's
    /// <c>IP:minport-maxport</c>): a listener binds each of them; a client spreads its sessions over them at random.
    /// </summary>
    /// <param name="address">The address to bind or dial.</param>
    /// <param name="minPort">The first UDP port, 1 to 65535.</param>
    /// <param name="maxPort">The last UDP port, <paramref name="minPort"/> to 65535.</param>
    public KcpEndPoint(IPAddress address, int minPort, int maxPort)
        : this(new IPEndPoint(address ?? throw new ArgumentNullException(nameof(address)), minPort))
    {
        if (minPort < 1 || maxPort < minPort || maxPort > IPEndPoint.MaxPort)
        {
            // kcptun's rule: no port 0 in a range (nothing to pick at random), and min <= max <= 65535.
            throw new ArgumentOutOfRangeException(nameof(maxPort), $"A KCP port range needs 1 <= minPort <= maxPort <= 65535, not {minPort}-{maxPort}.");
        }

        MaxPort = maxPort;
    }

    /// <summary>The UDP address and port; for a port range, its first port.</summary>
    public IPEndPoint IPEndPoint { get; }

    /// <summary>The last port of the range; equal to <see cref="IPEndPoint"/>'s port for a single port.</summary>
    public int MaxPort { get; }

    /// <summary>Number of ports: 1, or the size of a range.</summary>
    public int PortCount => MaxPort - IPEndPoint.Port + 1;

    /// <summary>
    /// Settings of this endpoint, applied at bind time over the transport's defaults
    /// (<see cref="KcpTransportOptions.Defaults"/>, bound from the <c>Kcp</c> configuration section).
    /// </summary>
    public Action<KcpOptions>? Configure { get; init; }

    /// <inheritdoc />
    public override System.Net.Sockets.AddressFamily AddressFamily => IPEndPoint.AddressFamily;

    /// <summary>
    /// Parses <c>host:port</c> or <c>[v6]:port</c>, as <see cref="IPEndPoint.Parse(string)"/> does, or a port range
    /// <c>host:minport-maxport</c> as kcptun's <c>--listen</c> and <c>--remoteaddr</c> take it.
    /// </summary>
    /// <param name="value">The text to parse.</param>
    /// <returns>The endpoint.</returns>
    /// <exception cref="FormatException">The text is not an IP address with a port or a port range.</exception>
    public static KcpEndPoint Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var dash = value.LastIndexOf('-');
        var colon = value.LastIndexOf(':');
        if (dash > colon && colon > 0)
        {
            // A range: the text up to the dash is ADDRESS:MINPORT, the rest the last port.
            if (IPEndPoint.TryParse(value[..dash], out var first) && HasPort(value[..dash])
                && int.TryParse(value.AsSpan(dash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var last)
                && first.Port >= 1 && last >= first.Port && last <= IPEndPoint.MaxPort)
            {
                return new KcpEndPoint(first.Address, first.Port, last);
            }
        }
        else if (IPEndPoint.TryParse(value, out var ip) && HasPort(value))
        {
            return new KcpEndPoint(ip);
        }

        throw new FormatException($"'{value}' is not a KCP endpoint; expected ADDRESS:PORT or ADDRESS:MINPORT-MAXPORT (1 <= MINPORT <= MAXPORT <= 65535), for example 127.0.0.1:4000, [::1]:4000 or 0.0.0.0:4000-4010.");
    }

    /// <inheritdoc />
    public override string ToString() => PortCount == 1
        ? "kcp://" + IPEndPoint
        : "kcp://" + IPEndPoint + "-" + MaxPort.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is KcpEndPoint other && other.IPEndPoint.Equals(IPEndPoint) && other.MaxPort == MaxPort;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(IPEndPoint, MaxPort);

    /// <summary>The endpoint of one port of the range, with this endpoint's settings.</summary>
    internal KcpEndPoint WithPort(int port) => new(new IPEndPoint(IPEndPoint.Address, port)) { Configure = Configure };

    /// <summary>A port of the range drawn at random (kcptun draws from crypto/rand for every new session); the port itself for a single port.</summary>
    internal IPEndPoint PickRemote() => PortCount == 1
        ? IPEndPoint
        : new IPEndPoint(IPEndPoint.Address, IPEndPoint.Port + System.Security.Cryptography.RandomNumberGenerator.GetInt32(PortCount));

    private static bool HasPort(string value)
    {
        // An IPv6 literal needs brackets to carry a port: "::1" alone is an address without one.
        return value.StartsWith('[')
            ? value.Contains("]:", StringComparison.Ordinal)
            : value.IndexOf(':') is > 0 and var colon && colon == value.LastIndexOf(':');
    }
}
