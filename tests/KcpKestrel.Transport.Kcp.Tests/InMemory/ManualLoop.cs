using KcpKestrel.Shared;
using System.Buffers;
using KcpKestrel.Core.Fec;
using KcpKestrel.Transport.Kcp.Diagnostics;
using KcpKestrel.Transport.Kcp.Io.Datagrams;
using KcpKestrel.Transport.Kcp.Io.Loops;
using KcpKestrel.Transport.Kcp.Sessions;

namespace KcpKestrel.Transport.Kcp.Tests.InMemory;

/// <summary>
/// An I/O loop without a thread or sockets, on a manual millisecond clock: a turn runs posted
/// work, due timers and end-of-turn flushes, as <see cref="KcpIoLoop"/>'s does.
/// </summary>
internal sealed class ManualLoop : IKcpLoop
{
    private readonly Queue<ILoopWorkItem> _work = new();
    private readonly List<ILoopFlushable> _dirty = [];

    public ManualLoop(uint start) => Now = start;

    public uint Now { get; private set; }

    public TimerWheel Timers { get; } = new();

    public ArrayPool<byte> BufferPool { get; } = ArrayPool<byte>.Create();

    public KcpTransportCounters Counters { get; } = new();

    /// <summary>A listener's share, when a test gives the loop one.</summary>
    public LoopReceiveMemory? ReceiveMemory { get; set; }

    public FecCodecCache FecCodecs { get; set; } = new();

    public void MarkDirty(ILoopFlushable item) => _dirty.Add(item);

    public void Post(ILoopWorkItem item)
    {
        lock (_work)
        {
            _work.Enqueue(item);
        }
    }

    public void RemoveChannel(IDatagramChannel channel)
    {
        channel.FlushSends();
        channel.Dispose();
    }

    /// <summary>One turn at <paramref name="now"/>.</summary>
    public void RunTurn(uint now)
    {
        Now = now;
        while (TryTakeWork(out var item))
        {
            // Work posted here (sessions, hand-overs between listening sockets) does not use the loop argument.
            item.Execute(null!, now);
        }

        Timers.Advance(now);
        for (var i = 0; i < _dirty.Count; i++)
        {
            _dirty[i].FlushDirty(now);
        }

        _dirty.Clear();
    }

    private bool TryTakeWork(out ILoopWorkItem item)
    {
        lock (_work)
        {
            return _work.TryDequeue(out item!);
        }
    }
}
