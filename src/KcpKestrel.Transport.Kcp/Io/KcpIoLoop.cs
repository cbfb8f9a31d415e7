using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace KcpKestrel.Transport.Kcp.Io;

/// <summary>
/// One event-loop thread: waits in epoll on its sockets and an eventfd with the timer wheel's next
/// deadline as the timeout, drains sockets with recvmmsg, runs work posted from other threads and
/// due timers, flushes sessions touched this turn, and sends each socket's batch with sendmmsg.
/// Every session it owns is touched by this thread only, so KCP state needs no lock.
/// </summary>
internal sealed unsafe class KcpIoLoop : IDisposable
{
    private const int MaxEvents = 64;
    private static readonly double TicksPerMillisecond = Stopwatch.Frequency / 1000.0;

    private readonly ConcurrentQueue<ILoopWorkItem> _work = new();
    private readonly List<UdpChannel?> _channels = [];
    private readonly Stack<int> _freeChannelSlots = new();
    private readonly List<UdpChannel> _flushQueue = [];
    private readonly List<ILoopFlushable> _dirty = [];
    private readonly MessageBatch _receiveBatch;
    private MessageBatch? _groReceiveBatch;
    private readonly byte* _events;
    private readonly int _epfd;
    private readonly int _eventfd;
    private readonly Thread _thread;
    private volatile bool _stopping;
    private int _wakePending;
    private bool _disposed;

    public KcpIoLoop(string name, int slotSize)
    {
        if (!LinuxNative.IsSupported)
        {
            throw new PlatformNotSupportedException("The KCP transport's I/O loop needs Linux (epoll, eventfd, recvmmsg, sendmmsg).");
        }

        Counters = new KcpTransportCounters();
        _receiveBatch = new MessageBatch(64, slotSize);
        _events = (byte*)NativeMemory.AllocZeroed((nuint)(MaxEvents * LinuxNative.EpollEventSize));
        _epfd = LinuxNative.epoll_create1(LinuxNative.EPOLL_CLOEXEC);
        _eventfd = LinuxNative.eventfd(0, LinuxNative.EFD_NONBLOCK | LinuxNative.EFD_CLOEXEC);
        if (_epfd < 0 || _eventfd < 0)
        {
            throw new InvalidOperationException($"epoll/eventfd failed: errno {Marshal.GetLastPInvokeError()}");
        }

        Register(_eventfd, ulong.MaxValue);
        _thread = new Thread(Run) { IsBackground = true, Name = name };
    }

    public KcpTransportCounters Counters { get; }

    /// <summary>
    /// The receive batch of sockets with UDP_GRO on: a coalesced buffer can reach 64 KiB, so fewer,
    /// larger slots (16 × 64 KiB, made on first use so loops without GRO sockets never pay for it).
    /// </summary>
    internal MessageBatch GroReceiveBatch => _groReceiveBatch ??= new MessageBatch(16, 65536, controlSize: 64);

    public TimerWheel Timers { get; } = new();

    /// <summary>Milliseconds on a monotonic clock, wrapping as KCP's <c>current</c> does.</summary>
    public static uint NowMs => (uint)(long)(Stopwatch.GetTimestamp() / TicksPerMillisecond);

    public bool IsLoopThread => Environment.CurrentManagedThreadId == _thread.ManagedThreadId;

    public void Start() => _thread.Start();

    /// <summary>Adds a socket to this loop. Loop thread only (post a work item from elsewhere).</summary>
    public void AddChannel(UdpChannel channel)
    {
        var index = _freeChannelSlots.Count > 0 ? _freeChannelSlots.Pop() : _channels.Count;
        if (index == _channels.Count)
        {
            _channels.Add(channel);
        }
        else
        {
            _channels[index] = channel;
        }

        channel.LoopIndex = index;
        channel.Loop = this;
        Register(channel.Fd, (ulong)index);
    }

    /// <summary>Removes and disposes a socket. Loop thread only.</summary>
    public void RemoveChannel(UdpChannel channel)
    {
        if (channel.LoopIndex < 0)
        {
            return;
        }

        if (channel.PendingSends > 0)
        {
            channel.FlushSends();
        }

        _ = LinuxNative.epoll_ctl(_epfd, LinuxNative.EPOLL_CTL_DEL, channel.Fd, null);
        _channels[channel.LoopIndex] = null;
        _freeChannelSlots.Push(channel.LoopIndex);
        channel.LoopIndex = -1;
        channel.Dispose();
    }

    /// <summary>Hands work to the loop from any thread and wakes it.</summary>
    public void Post(ILoopWorkItem item)
    {
        _work.Enqueue(item);
        Wake();
    }

    public void Wake()
    {
        if (Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            ulong one = 1;
            _ = LinuxNative.write(_eventfd, &one, sizeof(ulong));
        }
    }

    /// <summary>Queues an end-of-turn flush (acks, data, window updates). Loop thread only.</summary>
    public void MarkDirty(ILoopFlushable item) => _dirty.Add(item);

    internal void QueueFlush(UdpChannel channel) => _flushQueue.Add(channel);

    /// <summary>Stops the thread and waits for it (bounded).</summary>
    public void Stop()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        if (!_thread.IsAlive)
        {
            return;
        }

        Wake();
        if (!IsLoopThread)
        {
            _thread.Join(TimeSpan.FromSeconds(5));
        }
    }

    private void Register(int fd, ulong data)
    {
        var ev = stackalloc byte[16];
        LinuxNative.WriteEpollEvent(ev, LinuxNative.EPOLLIN, data);
        if (LinuxNative.epoll_ctl(_epfd, LinuxNative.EPOLL_CTL_ADD, fd, ev) < 0)
        {
            throw new InvalidOperationException($"epoll_ctl(ADD) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    private void Run()
    {
        while (!_stopping)
        {
            var now = NowMs;
            var timeout = _work.IsEmpty ? Timers.NextTimeout(now) : 0;
            var n = LinuxNative.epoll_wait(_epfd, _events, MaxEvents, timeout);
            now = NowMs;
            for (var i = 0; i < n; i++)
            {
                var data = LinuxNative.ReadEpollData(_events + (i * LinuxNative.EpollEventSize));
                if (data == ulong.MaxValue)
                {
                    ulong value;
                    _ = LinuxNative.read(_eventfd, &value, sizeof(ulong));
                    Volatile.Write(ref _wakePending, 0);
                    continue;
                }

                var index = (int)data;
                if (index < _channels.Count && _channels[index] is { } channel)
                {
                    channel.DrainReceive(_receiveBatch, now);
                }
            }

            RunTurn(now);
        }

        // Leave nothing half-sent behind.
        RunTurn(NowMs);
    }

    private void RunTurn(uint now)
    {
        // Bounded, so a flood of posted work cannot starve the sockets.
        for (var i = 0; i < 4096 && _work.TryDequeue(out var item); i++)
        {
            item.Execute(this, now);
        }

        Timers.Advance(now);

        for (var i = 0; i < _dirty.Count; i++)
        {
            _dirty[i].FlushDirty(now);
        }

        _dirty.Clear();

        for (var i = 0; i < _flushQueue.Count; i++)
        {
            var channel = _flushQueue[i];
            channel.FlushQueued = false;
            if (channel.PendingSends > 0 && channel.LoopIndex >= 0)
            {
                channel.FlushSends();
            }
        }

        _flushQueue.Clear();
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Stop();
        foreach (var channel in _channels)
        {
            channel?.Dispose();
        }

        _channels.Clear();
        _ = LinuxNative.close(_eventfd);
        _ = LinuxNative.close(_epfd);
        _receiveBatch.Dispose();
        _groReceiveBatch?.Dispose();
        NativeMemory.Free(_events);
    }
}
