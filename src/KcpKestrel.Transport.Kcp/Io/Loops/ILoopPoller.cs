using System.Net.Sockets;
using KcpKestrel.Transport.Kcp.Diagnostics;
using KcpKestrel.Transport.Kcp.Io.Datagrams;

namespace KcpKestrel.Transport.Kcp.Io.Loops;

/// <summary>
/// The part of an I/O loop that depends on the platform: waiting on its sockets with a timeout,
/// being woken from other threads, and draining the sockets that are readable.
/// </summary>
internal interface ILoopPoller : IDisposable
{
    UdpIoMode Mode { get; }

    /// <summary>A channel of this poller's kind for <paramref name="socket"/> (not yet added).</summary>
    IDatagramChannel CreateChannel(Socket socket, IDatagramReceiver receiver, KcpTransportCounters counters, int slotSize, bool gso, bool gro);

    /// <summary>Starts watching a channel whose <see cref="IDatagramChannel.LoopIndex"/> is set. Loop thread only.</summary>
    void Add(IDatagramChannel channel);

    /// <summary>Stops watching a channel, before it is disposed. Loop thread only.</summary>
    void Remove(IDatagramChannel channel);

    /// <summary>Makes a wait in progress (or the next one) return. Any thread; the loop coalesces calls.</summary>
    void Signal();

    /// <summary>
    /// Waits up to <paramref name="timeoutMs"/> (-1: no limit) for a readable socket or a signal,
    /// hands what arrived to the channels' receivers and returns the time after the wait.
    /// Calls <see cref="KcpIoLoop.OnSignalled"/> when a signal was consumed.
    /// </summary>
    uint WaitAndReceive(int timeoutMs, KcpIoLoop loop);

    /// <summary>Sends what channels left for the next wait to submit (io_uring), as the loop ends. Loop thread only.</summary>
    void FlushDeferred();
}
