using System.Net;
using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Stack;

/// <summary>Segments and flows the stack tests forge.</summary>
internal static class StackSegments
{
    public static readonly IPAddress Local = IPAddress.Parse("10.77.0.1");

    public static readonly IPAddress Remote = IPAddress.Parse("10.77.0.2");

    /// <summary>The flow from the stack's side: <see cref="Local"/>:<paramref name="localPort"/> and a peer.</summary>
    public static TcpFlowKey Flow(int localPort = 8080, int remotePort = 40000, IPAddress? remote = null) =>
        TcpFlowKey.From(new IPEndPoint(Local, localPort), new IPEndPoint(remote ?? Remote, remotePort));

    /// <summary>A peer's SYN offering MSS 1460, window scale 7, SACK and timestamps.</summary>
    public static TcpHeader Syn(uint seq = 1000, bool timestamps = true)
    {
        var syn = default(TcpHeader);
        syn.Seq = seq;
        syn.Flags = TcpFlags.Syn;
        syn.Window = 65535;
        syn.Options.Mss = 1460;
        syn.Options.HasWindowScale = true;
        syn.Options.WindowScale = 7;
        syn.Options.SackPermitted = true;
        if (timestamps)
        {
            syn.Options.HasTimestamps = true;
            syn.Options.TsVal = 12345;
        }

        return syn;
    }

    /// <summary>A segment with just these fields.</summary>
    public static TcpHeader Segment(TcpFlags flags, uint seq, uint ack = 0, ushort window = 1024)
    {
        var header = default(TcpHeader);
        header.Flags = flags;
        header.Seq = seq;
        header.Ack = ack;
        header.Window = window;
        return header;
    }
}
