using System.Net.Sockets;

namespace KcpKestrel.Transport.Tcp;

/// <summary>One listening socket of an SO_REUSEPORT group and what its loop has accepted.</summary>
internal sealed class TunedTcpAcceptLoop(int index, Socket socket)
{
    // Written only by this loop; its own object keeps the counter off the other loops' cache lines.
    private long _accepted;

    internal int Index { get; } = index;

    internal Socket Socket { get; } = socket;

    internal Task Task { get; set; } = Task.CompletedTask;

    internal long Accepted => Volatile.Read(ref _accepted);

    internal void CountAccepted() => Volatile.Write(ref _accepted, _accepted + 1);
}
