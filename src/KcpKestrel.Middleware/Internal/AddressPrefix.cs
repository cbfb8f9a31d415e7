using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;

namespace KcpKestrel.Middleware.Internal;

/// <summary>An IP address or CIDR prefix ("10.0.0.0/8", "2001:db8::/32", "192.0.2.7").</summary>
internal readonly struct AddressPrefix
{
    private readonly byte[] _bytes;

    private AddressPrefix(byte[] bytes, int length, AddressFamily family)
    {
        _bytes = bytes;
        Length = length;
        Family = family;
    }

    public int Length { get; }

    public AddressFamily Family { get; }

    public static bool TryParse(string? text, [NotNullWhen(true)] out AddressPrefix? prefix)
    {
        prefix = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var span = text.AsSpan().Trim();
        var slash = span.IndexOf('/');
        if (!IPAddress.TryParse(slash < 0 ? span : span[..slash], out var address))
        {
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var bytes = address.GetAddressBytes();
        var max = bytes.Length * 8;
        var length = max;
        if (slash >= 0 && (!int.TryParse(span[(slash + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out length) || length > max))
        {
            return false;
        }

        Mask(bytes, length);
        prefix = new AddressPrefix(bytes, length, address.AddressFamily);
        return true;
    }

    /// <summary>Whether <paramref name="address"/> (already folded from IPv4-mapped IPv6) lies in this prefix.</summary>
    public bool Contains(IPAddress address)
    {
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

    public override string ToString() => new IPAddress(_bytes) + "/" + Length.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static void Mask(byte[] bytes, int length)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            var bits = Math.Clamp(length - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - bits));
        }
    }
}
