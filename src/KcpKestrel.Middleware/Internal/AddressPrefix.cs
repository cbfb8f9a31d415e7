using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace KcpKestrel.Middleware.Internal;

/// <summary>
/// An IP address or CIDR prefix ("10.0.0.0/8", "2001:db8::/32", "192.0.2.7"), parsed strictly: only forms
/// with one meaning are accepted (see <see cref="TryParse(string?, out AddressPrefix?, out string?)"/>).
/// IPv4-mapped IPv6 rules (<c>::ffff:10.0.0.0/104</c>) are stored as their IPv4 prefix (<c>10.0.0.0/8</c>).
/// </summary>
internal readonly struct AddressPrefix
{
    /// <summary>What an entry may look like; ends the "accepted:" part of every error message.</summary>
    public const string AcceptedForms =
        "an IPv4 address in canonical dotted-quad form (192.0.2.7) or an IPv6 address (2001:db8::7, ::ffff:192.0.2.7), " +
        "optionally followed by /prefix-length (0-32 for IPv4, 0-128 for IPv6, 96-128 for IPv4-mapped IPv6, no sign or leading zeros) " +
        "with no address bits set past the prefix (10.0.0.0/8, 2001:db8::/32); no spaces, zone ids or brackets";

    private const int MappedPrefixBits = 96;

    private readonly byte[] _bytes;

    private AddressPrefix(byte[] bytes, int length, AddressFamily family)
    {
        _bytes = bytes;
        Length = length;
        Family = family;
    }

    public int Length { get; }

    public AddressFamily Family { get; }

    public static bool TryParse(string? text, [NotNullWhen(true)] out AddressPrefix? prefix) => TryParse(text, out prefix, out _);

    /// <summary>
    /// Parses one entry, rejecting every ambiguous form: empty text, any whitespace, IPv4 that is not a canonical
    /// dotted quad (<c>010.0.0.1</c>, <c>10.1</c>, <c>0x0a.0.0.1</c>, <c>10.0.0.256</c>), IPv6 zone ids or brackets,
    /// a prefix length out of range or not in canonical decimal (<c>/33</c>, <c>/129</c>, <c>/-1</c>, <c>/08</c>, <c>/+8</c>),
    /// an IPv4-mapped prefix shorter than /96, and host bits set past the prefix (<c>10.0.0.1/8</c>): rather than
    /// guess what was meant, the entry fails and <paramref name="error"/> says why.
    /// </summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out AddressPrefix? prefix, [NotNullWhen(false)] out string? error)
    {
        prefix = null;
        if (string.IsNullOrEmpty(text))
        {
            error = "the entry is empty";
            return false;
        }

        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                error = "the entry contains whitespace or control characters";
                return false;
            }
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? text : text[..slash];
        IPAddress address;
        if (addressText.Contains(':', StringComparison.Ordinal))
        {
            if (!TryParseIPv6(addressText, out address!, out error))
            {
                return false;
            }
        }
        else if (!TryParseDottedQuad(addressText, out address!, out error))
        {
            return false;
        }

        var bytes = address.GetAddressBytes();
        var max = bytes.Length * 8;
        var length = max;
        if (slash >= 0 && !TryParseLength(text[(slash + 1)..], max, out length, out error))
        {
            return false;
        }

        var family = address.AddressFamily;
        var statedLength = length;
        if (address.IsIPv4MappedToIPv6)
        {
            if (length < MappedPrefixBits)
            {
                error = $"an IPv4-mapped IPv6 prefix must be /{MappedPrefixBits} or longer (it is /{length})";
                return false;
            }

            bytes = bytes[12..];
            length -= MappedPrefixBits;
            family = AddressFamily.InterNetwork;
        }

        if (HasHostBits(bytes, length))
        {
            var network = (byte[])bytes.Clone();
            Mask(network, length);
            error = $"address bits are set past the /{statedLength} prefix " +
                $"(the network is {new IPAddress(network)}/{length}; for one host, leave the prefix out)";
            return false;
        }

        prefix = new AddressPrefix(bytes, length, family);
        error = null;
        return true;
    }

    /// <summary>Whether <paramref name="address"/> lies in this prefix; an IPv4-mapped IPv6 address is matched as its IPv4 address.</summary>
    public bool Contains(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != Family)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out var written))
        {
            return false;
        }

        bytes = bytes[..written];
        var whole = Length / 8;
        if (!bytes[..whole].SequenceEqual(_bytes.AsSpan(0, whole)))
        {
            return false;
        }

        var rest = Length % 8;
        if (rest == 0)
        {
            return true;
        }

        var mask = (byte)(0xFF << (8 - rest));
        return (bytes[whole] & mask) == _bytes[whole];
    }

    /// <summary>The network address of <paramref name="address"/> under a prefix of <paramref name="length"/> bits.</summary>
    public static IPAddress Network(IPAddress address, int length)
    {
        var bytes = address.GetAddressBytes();
        if (length >= bytes.Length * 8)
        {
            return address;
        }

        Mask(bytes, length);
        return new IPAddress(bytes);
    }

    public override string ToString() => new IPAddress(_bytes) + "/" + Length.ToString(CultureInfo.InvariantCulture);

    // Exactly four decimal octets 0-255, no leading zeros: IPAddress.Parse also takes "10.1", "0x0a.0.0.1"
    // and "010.0.0.1" (inet_aton forms, some read as octal elsewhere), which are refused here.
    private static bool TryParseDottedQuad(string text, [NotNullWhen(true)] out IPAddress? address, [NotNullWhen(false)] out string? error)
    {
        address = null;
        var bytes = new byte[4];
        var parts = text.Split('.');
        if (parts.Length != 4)
        {
            error = "an IPv4 address needs exactly four dot-separated decimal octets";
            return false;
        }

        for (var i = 0; i < 4; i++)
        {
            if (!TryParseCanonicalDecimal(parts[i], 255, out var octet))
            {
                error = $"octet '{parts[i]}' is not a decimal number 0-255 without leading zeros";
                return false;
            }

            bytes[i] = (byte)octet;
        }

        address = new IPAddress(bytes);
        error = null;
        return true;
    }

    private static bool TryParseIPv6(string text, [NotNullWhen(true)] out IPAddress? address, [NotNullWhen(false)] out string? error)
    {
        address = null;
        foreach (var c in text)
        {
            if (!(char.IsAsciiHexDigit(c) || c is ':' or '.'))
            {
                error = c is '%' or '[' or ']'
                    ? "zone ids and brackets are not accepted in an IPv6 entry"
                    : $"'{c}' is not allowed in an IPv6 address";
                return false;
            }
        }

        // An embedded IPv4 tail (::ffff:10.0.0.1) must be a canonical dotted quad too.
        if (text.Contains('.', StringComparison.Ordinal) && !TryParseDottedQuad(text[(text.LastIndexOf(':') + 1)..], out _, out error))
        {
            return false;
        }

        if (!IPAddress.TryParse(text, out address) || address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            address = null;
            error = "not a valid IPv6 address";
            return false;
        }

        error = null;
        return true;
    }

    private static bool TryParseLength(string text, int max, out int length, [NotNullWhen(false)] out string? error)
    {
        if (!TryParseCanonicalDecimal(text, max, out length))
        {
            error = $"prefix length '{text}' is not a decimal number 0-{max} without sign or leading zeros";
            return false;
        }

        error = null;
        return true;
    }

    // ASCII digits only, at most three, no leading zero unless the number is 0.
    private static bool TryParseCanonicalDecimal(string text, int max, out int value)
    {
        value = 0;
        if (text.Length is 0 or > 3 || (text.Length > 1 && text[0] == '0'))
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        return value <= max;
    }

    private static bool HasHostBits(byte[] bytes, int length)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            var bits = Math.Clamp(length - (i * 8), 0, 8);
            if ((bytes[i] & (byte)~(0xFF << (8 - bits))) != 0)
            {
                return true;
            }
        }

        return false;
    }

    private static void Mask(byte[] bytes, int length)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            var bits = Math.Clamp(length - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - bits));
        }
    }
}
