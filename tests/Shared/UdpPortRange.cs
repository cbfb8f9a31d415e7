using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace KcpKestrel.Tests.Shared;

/// <summary>Consecutive free loopback UDP ports, for KCP port ranges (kcptun's IP:min-max).</summary>
internal static class UdpPortRange
{
    /// <summary>
    /// The first of <paramref name="count"/> consecutive loopback UDP ports free right now: port 0 cannot ask the kernel
    /// for a range, so candidates are bound and released. Another process may take one before the test binds it; the
    /// range server retries on a fresh range then.
    /// </summary>
    public static int FindFree(int count)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var first = Random.Shared.Next(20000, 60000 - count);
            var sockets = new List<Socket>();
            try
            {
                for (var port = first; port < first + count; port++)
                {
                    var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                    sockets.Add(socket);
                    socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
                }

                return first;
            }
            catch (SocketException)
            {
                // Taken: try another range.
            }
            finally
            {
                foreach (var socket in sockets)
                {
                    socket.Dispose();
                }
            }
        }

        throw new InvalidOperationException($"No {count} consecutive free UDP ports found on loopback.");
    }

    /// <summary>
    /// Whether a socket is bound to UDP <paramref name="port"/> on IPv4 (/proc/net/udp): how a test waits for an external
    /// program (kcptun-server, nginx) that prints nothing when its UDP socket is ready.
    /// </summary>
    public static bool IsBound(int port)
    {
        var suffix = ":" + port.ToString("X4", CultureInfo.InvariantCulture);
        foreach (var line in File.ReadLines("/proc/net/udp").Skip(1))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 1 && fields[1].EndsWith(suffix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
