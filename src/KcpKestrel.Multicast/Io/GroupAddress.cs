using System.Net;

namespace KcpKestrel.Multicast.Io;

/// <summary>Parses <see cref="MulticastOptions.Group"/>: a multicast address (IPv4 or IPv6) and a port.</summary>
internal static class GroupAddress
{
    public static bool TryParse(string? text, out IPEndPoint group)
    {
        group = null!;
        if (!IPEndPoint.TryParse(text ?? "", out var parsed) || parsed.Port == 0)
        {
            return false;
        }

        var address = parsed.Address;
        var multicast = address.IsIPv6Multicast
            || (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && (address.GetAddressBytes()[0] & 0xF0) == 0xE0);
        if (!multicast)
        {
            return false;
        }

        group = parsed;
        return true;
    }
}
