using System.Globalization;
using System.Net;
using System.Net.Sockets;
using KcpKestrel.Transport.UserTcp.Packets;

namespace KcpKestrel.Transport.UserTcp;

/// <summary>
/// An endpoint served by the user-space TCP stack: a TUN device, the stack's own address and prefix on it, a port, and
/// the kernel side's address (the one the device carries, so the kernel routes the prefix into it).
/// </summary>
/// <remarks>
/// Deliberately not an <see cref="IPEndPoint"/>: Kestrel's sockets transport binds every <see cref="IPEndPoint"/>,
/// and a subclass would let it steal this one.
/// </remarks>
public sealed class UserTcpEndPoint : EndPoint
{
    /// <summary>Longest TUN device name (Linux's IFNAMSIZ less its terminating zero).</summary>
    public const int MaxDeviceNameLength = 15;

    /// <summary>Creates an endpoint.</summary>
    /// <param name="deviceName">The TUN device to create (or open): 1 to 15 characters, no '/', ',' '=' or white space.</param>
    /// <param name="address">The stack's own address (not the device's).</param>
    /// <param name="prefixLength">The prefix both sides share: 1 to 32 for IPv4, 1 to 128 for IPv6.</param>
    /// <param name="port">The TCP port, 1 to 65535 (0 only for a connection factory's endpoint, whose connections take ephemeral ports).</param>
    /// <param name="peerAddress">The kernel side's address in the prefix (the device's); null: the first host address of the prefix other than <paramref name="address"/>.</param>
    public UserTcpEndPoint(string deviceName, IPAddress address, int prefixLength, int port, IPAddress? peerAddress = null)
    {
        ArgumentNullException.ThrowIfNull(deviceName);
        ArgumentNullException.ThrowIfNull(address);
        if (!IsValidDeviceName(deviceName))
        {
            throw new ArgumentException($"'{deviceName}' is not a TUN device name; accepted: 1 to {MaxDeviceNameLength} characters, none of '/', ',', '=', ':' or white space.", nameof(deviceName));
        }

        if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6) || address.IsIPv4MappedToIPv6)
        {
            throw new ArgumentException($"'{address}' is not an IPv4 or IPv6 address.", nameof(address));
        }

        var bits = BitsOf(address);
        if (prefixLength < 1 || prefixLength > bits)
        {
            throw new ArgumentOutOfRangeException(nameof(prefixLength), $"A prefix length of {prefixLength} is not valid for {address}; accepted: 1 to {bits}.");
        }

        if (port is < 0 or > IPEndPoint.MaxPort)
        {
            throw new ArgumentOutOfRangeException(nameof(port), $"Port {port} is not valid; accepted: 0 to 65535.");
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || IsMulticast(address))
        {
            throw new ArgumentException($"'{address}' cannot be the stack's address: it must be a unicast address, not loopback or unspecified.", nameof(address));
        }

        peerAddress ??= DefaultPeer(address, prefixLength);
        if (peerAddress.AddressFamily != address.AddressFamily)
        {
            throw new ArgumentException($"The peer address {peerAddress} is not of {address}'s family.", nameof(peerAddress));
        }

        if (peerAddress.Equals(address))
        {
            throw new ArgumentException($"The peer address {peerAddress} is the stack's own address; the kernel's side needs another address of the prefix.", nameof(peerAddress));
        }

        if (!SamePrefix(address, peerAddress, prefixLength))
        {
            throw new ArgumentException($"The peer address {peerAddress} is outside {address}/{prefixLength.ToString(CultureInfo.InvariantCulture)}.", nameof(peerAddress));
        }

        DeviceName = deviceName;
        Address = address;
        PrefixLength = prefixLength;
        Port = port;
        PeerAddress = peerAddress;
    }

    /// <summary>The TUN device's name.</summary>
    public string DeviceName { get; }

    /// <summary>The stack's own address (the kernel reaches it through the device).</summary>
    public IPAddress Address { get; }

    /// <summary>The prefix length the stack and the kernel share.</summary>
    public int PrefixLength { get; }

    /// <summary>The TCP port.</summary>
    public int Port { get; }

    /// <summary>The kernel side's address: the device is given it, with <see cref="PrefixLength"/>.</summary>
    public IPAddress PeerAddress { get; }

    /// <summary>How many device queues (one I/O loop each); null: <see cref="UserTcpOptions.QueueCount"/>.</summary>
    public int? QueueCount { get; init; }

    /// <summary>Settings of this endpoint, applied at bind over the transport's defaults.</summary>
    public Action<UserTcpOptions>? Configure { get; init; }

    /// <summary>The stack's address and port.</summary>
    public IPEndPoint IPEndPoint => new(Address, Port);

    /// <inheritdoc />
    public override AddressFamily AddressFamily => Address.AddressFamily;

    /// <summary>
    /// Where packets come from instead of a TUN device (tests, or an app's own source); null opens
    /// <see cref="DeviceName"/>. The listener does not dispose it.
    /// </summary>
    internal IPacketSource? PacketSource { get; init; }

    /// <summary>
    /// Seeded loss applied to the device's packets both ways (a <see cref="LossyPacketSource"/>), from the spec's
    /// <c>loss=P,seed=N</c>: for tests and demonstrations of recovery, never for production. <see cref="LinkImpairment.None"/> by default.
    /// </summary>
    internal LinkImpairment Impairment { get; init; }

    /// <summary>The seed of <see cref="Impairment"/>'s generators (<c>seed=N</c>; 1 by default).</summary>
    internal int ImpairmentSeed { get; init; } = 1;

    /// <summary>The other keys a spec may carry, for front ends that add their own (read by them, not here).</summary>
    internal IReadOnlyDictionary<string, string> ExtraKeys { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Parses the CLI's form: <c>tun=NAME,address=ADDRESS/PREFIX,port=PORT[,peer=ADDRESS][,queues=N][,loss=P,seed=N]</c>, keys in any
    /// order, for example <c>tun=ut0,address=10.77.0.1/24,port=8080</c> or <c>tun=ut6,address=fd00:77::1/64,port=80</c>.
    /// </summary>
    /// <param name="value">The text.</param>
    /// <returns>The endpoint.</returns>
    /// <exception cref="FormatException">A key is missing, unknown or repeated, or a value is not valid; the message says which.</exception>
    public static UserTcpEndPoint Parse(string value) => Parse(value, extraKeys: null);

    /// <summary>Parses the spec, passing keys in <paramref name="extraKeys"/> through <see cref="ExtraKeys"/> (front ends' own).</summary>
    internal static UserTcpEndPoint Parse(string value, IReadOnlyCollection<string>? extraKeys)
    {
        ArgumentNullException.ThrowIfNull(value);
        const string Form = "expected tun=NAME,address=ADDRESS/PREFIX,port=PORT[,peer=ADDRESS][,queues=N], for example tun=ut0,address=10.77.0.1/24,port=8080";
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        var extra = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in value.Split(',', StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new FormatException($"'{value}': '{part}' is not KEY=VALUE; {Form}.");
            }

            var key = part[..equals].ToLowerInvariant();
            var text = part[(equals + 1)..];
            var known = key is "tun" or "address" or "port" or "peer" or "queues" or "loss" or "seed";
            if (!known && (extraKeys is null || !extraKeys.Contains(key)))
            {
                throw new FormatException($"'{value}': unknown key '{key}'; {Form}.");
            }

            var target = known ? keys : extra;
            if (!target.TryAdd(key, text))
            {
                throw new FormatException($"'{value}': '{key}' is given twice; {Form}.");
            }
        }

        if (!keys.TryGetValue("tun", out var name) || !keys.TryGetValue("address", out var cidr) || !keys.TryGetValue("port", out var portText))
        {
            throw new FormatException($"'{value}': tun, address and port are required; {Form}.");
        }

        var slash = cidr.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || !IPAddress.TryParse(cidr.AsSpan(0, slash), out var address)
            || !int.TryParse(cidr.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var prefix))
        {
            throw new FormatException($"'{value}': address '{cidr}' is not ADDRESS/PREFIX (10.77.0.1/24, fd00:77::1/64); {Form}.");
        }

        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            throw new FormatException($"'{value}': port '{portText}' is not a number from 1 to 65535.");
        }

        IPAddress? peer = null;
        if (keys.TryGetValue("peer", out var peerText) && !IPAddress.TryParse(peerText, out peer))
        {
            throw new FormatException($"'{value}': peer '{peerText}' is not an IP address.");
        }

        int? queues = null;
        if (keys.TryGetValue("queues", out var queuesText))
        {
            if (!int.TryParse(queuesText, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1 || n > UserTcpOptions.MaxQueueCount)
            {
                throw new FormatException($"'{value}': queues '{queuesText}' is not valid; accepted: 1 to {UserTcpOptions.MaxQueueCount}.");
            }

            queues = n;
        }

        var loss = 0d;
        if (keys.TryGetValue("loss", out var lossText)
            && (!double.TryParse(lossText, NumberStyles.Float, CultureInfo.InvariantCulture, out loss) || !(loss >= 0 && loss <= 1)))
        {
            throw new FormatException($"'{value}': loss '{lossText}' is not a probability from 0 to 1 (loss=0.02 drops 2% of packets each way).");
        }

        var seed = 1;
        if (keys.TryGetValue("seed", out var seedText) && !int.TryParse(seedText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out seed))
        {
            throw new FormatException($"'{value}': seed '{seedText}' is not a whole number.");
        }

        try
        {
            return new UserTcpEndPoint(name, address, prefix, port, peer) { QueueCount = queues, ExtraKeys = extra, Impairment = new LinkImpairment(loss), ImpairmentSeed = seed };
        }
        catch (ArgumentException e)
        {
            // The constructor's message names the value and what is accepted; drop its "(Parameter ...)" tail.
            var message = e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", string.Empty, StringComparison.Ordinal);
            throw new FormatException($"'{value}': {message}", e);
        }
    }

    /// <summary>A copy whose packets come from <paramref name="source"/> instead of the device (tests, an app's own source).</summary>
    internal UserTcpEndPoint WithPacketSource(IPacketSource source) =>
        new(DeviceName, Address, PrefixLength, Port, PeerAddress) { QueueCount = QueueCount, Configure = Configure, PacketSource = source, ExtraKeys = ExtraKeys, Impairment = Impairment, ImpairmentSeed = ImpairmentSeed };

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"usertcp://{DeviceName}/{IPEndPoint}");

    /// <inheritdoc />
    public override bool Equals(object? obj) =>
        obj is UserTcpEndPoint other && other.DeviceName == DeviceName && other.Address.Equals(Address)
        && other.PrefixLength == PrefixLength && other.Port == Port && other.PeerAddress.Equals(PeerAddress);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(DeviceName, Address, PrefixLength, Port);

    private static bool IsValidDeviceName(string name)
    {
        if (name.Length is 0 or > MaxDeviceNameLength || name is "." or "..")
        {
            return false;
        }

        foreach (var c in name)
        {
            if (c is '/' or ',' or '=' or ':' || char.IsWhiteSpace(c) || char.IsControl(c))
            {
                return false;
            }
        }

        return true;
    }

    private static int BitsOf(IPAddress address) => address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;

    private static bool IsMulticast(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? address.IsIPv6Multicast : (address.GetAddressBytes()[0] & 0xF0) == 0xE0;

    private static UInt128 ToNumber(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        var n = UInt128.Zero;
        foreach (var b in bytes)
        {
            n = (n << 8) | b;
        }

        return n;
    }

    private static IPAddress FromNumber(UInt128 n, int bits)
    {
        var bytes = new byte[bits / 8];
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            bytes[i] = (byte)(n & 0xFF);
            n >>= 8;
        }

        return new IPAddress(bytes);
    }

    private static UInt128 HostMask(int bits, int prefixLength) =>
        prefixLength >= bits ? UInt128.Zero : (UInt128.One << (bits - prefixLength)) - UInt128.One;

    private static bool SamePrefix(IPAddress a, IPAddress b, int prefixLength)
    {
        var mask = HostMask(BitsOf(a), prefixLength);
        return (ToNumber(a) & ~mask) == (ToNumber(b) & ~mask);
    }

    /// <summary>
    /// The first host address of the prefix other than <paramref name="address"/>: network + 1 (network + 2 when that is
    /// the address). /31 (RFC 3021) has no network or broadcast address: the other one; /32 and /128 have no peer.
    /// </summary>
    private static IPAddress DefaultPeer(IPAddress address, int prefixLength)
    {
        var bits = BitsOf(address);
        var mask = HostMask(bits, prefixLength);
        if (mask == UInt128.Zero)
        {
            throw new ArgumentException($"{address}/{prefixLength.ToString(CultureInfo.InvariantCulture)} holds no other address: give the peer (the kernel side's address) explicitly.", nameof(prefixLength));
        }

        var self = ToNumber(address);
        var network = self & ~mask;
        if (mask == UInt128.One)
        {
            return FromNumber(self ^ UInt128.One, bits);
        }

        var first = network + UInt128.One;
        var candidate = first == self ? first + UInt128.One : first;
        var isIPv4Broadcast = bits == 32 && candidate == (network | mask);
        if (isIPv4Broadcast)
        {
            throw new ArgumentException($"{address}/{prefixLength.ToString(CultureInfo.InvariantCulture)} holds no other host address: give the peer explicitly.", nameof(prefixLength));
        }

        return FromNumber(candidate, bits);
    }
}
