using System.Buffers.Binary;
using System.Net.Sockets;
using KcpKestrel.Transport.Kcp.Diagnostics;
using KcpKestrel.Transport.Kcp.Io.Native;

namespace KcpKestrel.Transport.Kcp.Io.Datagrams;

/// <summary>
/// One socket's kernel drops, from SO_RXQ_OVFL: with the option on, Linux stamps each received
/// datagram with how many the socket had dropped so far (its receive buffer was full, mostly) and
/// hands that over as a cmsg whenever it is not zero. The native channels keep the latest value per
/// socket and add what it grew by to the loop's counters, so a drop shows at the next datagram read.
/// </summary>
internal struct KernelDropCount
{
    private uint _seen;

    /// <summary>Turns SO_RXQ_OVFL on (Linux 2.6.33); false where the option is unknown.</summary>
    public static bool TryEnable(Socket socket)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            socket.SetRawSocketOption(LinuxNative.SOL_SOCKET, LinuxNative.SO_RXQ_OVFL, BitConverter.GetBytes(1));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Reads the drop count from a received datagram's control data, if it has one, and counts the growth.</summary>
    public void Observe(ReadOnlySpan<byte> control, KcpTransportCounters counters)
    {
        if (control.IsEmpty)
        {
            return;
        }

        var data = ControlMessages.Find(control, LinuxNative.SOL_SOCKET, LinuxNative.SO_RXQ_OVFL);
        if (data.Length < sizeof(uint))
        {
            return;
        }

        // The kernel's counter only grows (and wraps at 2^32): a difference read as signed is the growth.
        var growth = (int)(BinaryPrimitives.ReadUInt32LittleEndian(data) - _seen);
        if (growth > 0)
        {
            counters.KernelDrops += growth;
            _seen += (uint)growth;
        }
    }
}
