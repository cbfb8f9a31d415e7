using KcpKestrel.Shared;
using System.Buffers;
using KcpKestrel.Core.Fec;
using KcpKestrel.Transport.Kcp.Diagnostics;
using KcpKestrel.Transport.Kcp.Sessions;
using KcpKestrel.Transport.Kcp.Io.Datagrams;

namespace KcpKestrel.Transport.Kcp.Io.Loops;

/// <summary>
/// What sessions and listening sockets need from the I/O loop that runs them: its timers, its
/// end-of-turn flush list, a way in from other threads, its buffers and counters.
/// <see cref="KcpIoLoop"/> is the one implementation outside tests, which drive sessions on a
/// manual clock through their own.
/// </summary>
internal interface IKcpLoop
{
    TimerWheel Timers { get; }

    ArrayPool<byte> BufferPool { get; }

    KcpTransportCounters Counters { get; }

    /// <summary>This loop's share of its listener's receive budget; null for a client's loop.</summary>
    LoopReceiveMemory? ReceiveMemory { get; }

    /// <summary>Reed-Solomon codecs shared by this loop's FEC decoders, with their bounded decode caches.</summary>
    FecCodecCache FecCodecs { get; }

    /// <summary>The loop's clock now, in ms (a manual clock in tests): what a session's flush reads as each segment goes out.</summary>
    uint Now { get; }

    /// <summary>Queues an end-of-turn flush. Loop thread only.</summary>
    void MarkDirty(ILoopFlushable item);

    /// <summary>Hands work to the loop from any thread and wakes it.</summary>
    void Post(ILoopWorkItem item);

    /// <summary>Removes and disposes a socket, after sending what it has queued. Loop thread only.</summary>
    void RemoveChannel(IDatagramChannel channel);
}
