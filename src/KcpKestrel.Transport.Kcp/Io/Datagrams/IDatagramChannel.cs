using System.Net.Sockets;

namespace KcpKestrel.Transport.Kcp.Io.Datagrams;

/// <summary>
/// One UDP socket owned by one I/O loop, as sessions see it: a queue of outgoing datagrams that
/// leaves at the end of the loop's turn. <see cref="UdpChannel"/> (native batches) and
/// <see cref="SocketUdpChannel"/> (portable Socket calls) implement it.
/// </summary>
internal interface IDatagramChannel : IDisposable
{
    Socket Socket { get; }

    IDatagramReceiver Receiver { get; set; }

    /// <summary>Index in the owning loop's channel table; -1 once removed.</summary>
    int LoopIndex { get; set; }

    bool FlushQueued { get; set; }

    IDatagramLoop? Loop { get; set; }

    int PendingSends { get; }

    /// <summary>True once the socket is gone: nothing may be queued any more.</summary>
    bool IsDisposed { get; }

    /// <summary>The next free send slot; commit it with <see cref="CommitSend"/>. Loop thread only.</summary>
    Span<byte> BeginSend();

    /// <summary>
    /// Queues the slot from <see cref="BeginSend"/> to <paramref name="sockaddr"/>, a sockaddr in the
    /// Linux layout (see <see cref="Native.SockaddrLayout"/>); empty sends on a connected socket.
    /// </summary>
    void CommitSend(int length, ReadOnlySpan<byte> sockaddr);

    /// <summary>Sends everything queued. A full socket buffer, after a brief wait, drops the rest, counted.</summary>
    void FlushSends();
}
