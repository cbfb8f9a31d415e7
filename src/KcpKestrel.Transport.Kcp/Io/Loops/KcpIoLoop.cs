using KcpKestrel.Shared;
using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using KcpKestrel.Core.Fec;
using KcpKestrel.IoUring;
using KcpKestrel.Transport.Kcp.Diagnostics;
using KcpKestrel.Transport.Kcp.Sessions;
using KcpKestrel.Transport.Kcp.Io.Datagrams;

namespace KcpKestrel.Transport.Kcp.Io.Loops;

/// <summary>
/// One event-loop thread: waits on its sockets and a wake-up signal with the timer wheel's next
/// deadline as the timeout, drains readable sockets, runs work posted from other threads and due
/// timers, flushes sessions touched this turn, and sends each socket's queued datagrams. Every
/// session it owns is touched by this thread only, so KCP state needs no lock. The waiting and the
/// datagram calls are its <see cref="ILoopPoller"/>'s: epoll and recvmmsg/sendmmsg or io_uring on
/// Linux, or portable Socket calls (see <see cref="UdpIo"/>).
/// </summary>
internal sealed class KcpIoLoop : IKcpLoop, IDatagramLoop, IDisposable
{
    // Covers every datagram-sized buffer (an MTU is at most 1500). The stock only has to absorb the swing in
    // buffers out (thousands of sessions hold tens of thousands steadily); its cap is what an idle loop keeps
    // after a peak: at most 8 MiB of 2 KiB buffers.
    private const int MaxPooledBufferLength = 2048;
    private const int MaxPooledBuffersPerSize = 4096;

    private static readonly double TicksPerMillisecond = Stopwatch.Frequency / 1000.0;

    private readonly ConcurrentQueue<ILoopWorkItem> _work = new();
    private readonly List<IDatagramChannel?> _channels = [];
    private readonly Stack<int> _freeChannelSlots = new();
    private readonly List<IDatagramChannel> _flushQueue = [];
    private readonly List<ILoopFlushable> _dirty = [];
    private readonly ILoopPoller _poller;
    private readonly LoopSpin _spin = new((long)(LoopSpin.DefaultWindowMicroseconds * TicksPerMillisecond / 1000));
    private MessageBatch? _groReceiveBatch;
    private readonly Thread _thread;
    private volatile bool _stopping;
    private int _wakePending;
    private bool _disposed;

    /// <param name="name">The thread's name.</param>
    /// <param name="slotSize">Largest datagram sent or received.</param>
    /// <param name="mode">The I/O path; io_uring falls back to epoll when its ring cannot be set up (<see cref="FallbackReason"/>).</param>
    /// <param name="overrides">Test switches; null for none.</param>
    public KcpIoLoop(string name, int slotSize, UdpIoMode mode, UdpIoOverrides? overrides = null)
    {
        Counters = new KcpTransportCounters();
        _poller = CreatePoller(slotSize, mode, overrides ?? UdpIoOverrides.None, out var fallbackReason);
        FallbackReason = fallbackReason;
        _thread = new Thread(Run) { IsBackground = true, Name = name };
    }

    public UdpIoMode Mode => _poller.Mode;

    /// <summary>Why this loop is not on the path it was asked for (its io_uring ring could not be set up), or null.</summary>
    public string? FallbackReason { get; }

    /// <summary>The poller, for tests that look at its buffers.</summary>
    internal ILoopPoller Poller => _poller;

    public KcpTransportCounters Counters { get; }

    /// <summary>Set by a listener before the loop starts; null for a client's loop.</summary>
    public LoopReceiveMemory? ReceiveMemory { get; set; }

    /// <summary>Replaced by a listener before the loop starts, to split its decode-cache budget over its loops.</summary>
    public FecCodecCache FecCodecs { get; set; } = new();

    /// <summary>
    /// The receive batch of sockets with UDP_GRO on: a coalesced buffer can reach 64 KiB, so fewer,
    /// larger slots (16 × 64 KiB, made on first use so loops without GRO sockets never pay for it).
    /// </summary>
    public MessageBatch GroReceiveBatch => _groReceiveBatch ??= new MessageBatch(16, 65536, controlSize: 64);

    public TimerWheel Timers { get; } = new();

    /// <summary>
    /// Segment and FEC shard buffers for this loop's sessions. The shared pool keeps a few arrays per
    /// core; thousands of sessions each holding some in flight drain it, and every miss becomes an
    /// array for the GC to collect (a third of a busy server's CPU, measured). Bounded: past the cap,
    /// returned arrays are left to the GC.
    /// </summary>
    public ArrayPool<byte> BufferPool { get; } = ArrayPool<byte>.Create(MaxPooledBufferLength, MaxPooledBuffersPerSize);

    /// <summary>Milliseconds on a monotonic clock, wrapping as KCP's <c>current</c> does.</summary>
    public static uint NowMs => (uint)(long)(Stopwatch.GetTimestamp() / TicksPerMillisecond);

    public uint Now => NowMs;

    public bool IsLoopThread => Environment.CurrentManagedThreadId == _thread.ManagedThreadId;

    public void Start() => _thread.Start();

    /// <summary>A channel of this loop's kind for <paramref name="socket"/>; add it on the loop with <see cref="AddChannel"/>.</summary>
    public IDatagramChannel CreateChannel(System.Net.Sockets.Socket socket, IDatagramReceiver receiver, int slotSize, bool gso, bool gro)
    {
        var (receiveBuffer, sendBuffer) = UdpSocketBuffers.Measure(socket);
        Counters.RecordSocketBuffers(receiveBuffer, sendBuffer);
        return _poller.CreateChannel(socket, receiver, Counters, slotSize, gso, gro);
    }

    /// <summary>Adds a socket to this loop. Loop thread only (post a work item from elsewhere).</summary>
    public void AddChannel(IDatagramChannel channel)
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
        _poller.Add(channel);
    }

    /// <summary>Removes and disposes a socket. Loop thread only.</summary>
    public void RemoveChannel(IDatagramChannel channel)
    {
        if (channel.LoopIndex < 0)
        {
            return;
        }

        if (channel.PendingSends > 0)
        {
            channel.FlushSends();
        }

        _poller.Remove(channel);
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
        // The loop looks at its work queue before it sleeps: work posted from its own thread (an app running
        // inline, a session's own callback) needs no signal, which would cost a write and a wake-up read.
        if (IsLoopThread)
        {
            return;
        }

        if (Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            _poller.Signal();
        }
    }

    /// <summary>Queues an end-of-turn flush (acks, data, window updates). Loop thread only.</summary>
    public void MarkDirty(ILoopFlushable item) => _dirty.Add(item);

    public void QueueFlush(IDatagramChannel channel) => _flushQueue.Add(channel);

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

    /// <summary>The channel at a poller's cookie, or null if it left. Loop thread only.</summary>
    internal IDatagramChannel? ChannelAt(int index) => index < _channels.Count ? _channels[index] : null;

    /// <summary>The poller consumed the wake-up signal: the next <see cref="Wake"/> must signal again.</summary>
    internal void OnSignalled() => Volatile.Write(ref _wakePending, 0);

    // The start-up probe can pass and this loop's own ring still be refused (the buffer ring's memory,
    // a limit reached by earlier loops): the loop then runs on the next best path rather than failing.
    private static ILoopPoller CreatePoller(int slotSize, UdpIoMode mode, UdpIoOverrides overrides, out string? fallbackReason)
    {
        fallbackReason = null;
        if (mode == UdpIoMode.IoUring)
        {
            try
            {
                return new IoUringLoopPoller(slotSize, overrides.IoUringRegisterFault, overrides.IoUringGroRegisterFault, overrides.IoUringRing);
            }
            catch (IoUringUnavailableException ex)
            {
                mode = UdpIo.NativeWorks ? UdpIoMode.Native : UdpIoMode.Socket;
                fallbackReason = $"io_uring ring setup failed ({ex.Message}); using {(mode == UdpIoMode.Native ? "epoll" : "socket")}";
            }
        }

        return mode == UdpIoMode.Native ? new EpollLoopPoller(slotSize) : new SocketLoopPoller(slotSize);
    }

    private void Run()
    {
        while (!_stopping)
        {
            var timeout = _work.IsEmpty ? Timers.NextTimeout(NowMs) : 0;
            if (!(timeout != 0 && _spin.ShouldSpin() && TrySpin(timeout, out _)))
            {
                _ = _poller.WaitAndReceive(timeout, this);
            }

            // Read the clock again: draining a burst can take milliseconds under load, and a resend
            // deadline set this turn from the time before it would fire that much early (kcp-go reads
            // the clock as it sends). Spurious timeouts on a clean loopback came from here.
            RunTurn(NowMs);
        }

        // Leave nothing half-sent behind.
        RunTurn(NowMs);
        _poller.FlushDeferred();
    }

    /// <summary>
    /// Polls without sleeping for the spin window (or until the next timer, if sooner); true, with the time, when a
    /// datagram or posted work came meanwhile (see <see cref="LoopSpin"/>).
    /// </summary>
    private bool TrySpin(int timeoutMs, out uint now)
    {
        var start = Stopwatch.GetTimestamp();
        var window = timeoutMs < 0 ? _spin.WindowTicks : Math.Min(_spin.WindowTicks, (long)(timeoutMs * TicksPerMillisecond));
        var received = Counters.DatagramsReceived;
        do
        {
            now = _poller.WaitAndReceive(0, this);
            if (Counters.DatagramsReceived != received || !_work.IsEmpty || _stopping)
            {
                _spin.OnSpinEnded(caught: true);
                return true;
            }
        }
        while (Stopwatch.GetTimestamp() - start < window);

        _spin.OnSpinEnded(caught: false);
        return false;
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
        _poller.Dispose();
        _groReceiveBatch?.Dispose();
    }
}
