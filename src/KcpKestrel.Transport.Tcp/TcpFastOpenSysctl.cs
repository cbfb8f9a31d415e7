using System.Globalization;

namespace KcpKestrel.Transport.Tcp;

/// <summary>Reads whether the kernel accepts TCP Fast Open on the server side (Linux only).</summary>
internal static class TcpFastOpenSysctl
{
    private const string Path = "/proc/sys/net/ipv4/tcp_fastopen";

    /// <summary>True when bit 2 (server) of <c>net.ipv4.tcp_fastopen</c> is set; <paramref name="text"/> is
    /// what the sysctl holds, or "unreadable".</summary>
    internal static bool ServerEnabled(out string text)
    {
        try
        {
            text = File.ReadAllText(Path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            text = "unreadable";
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && (value & 2) != 0;
    }
}
