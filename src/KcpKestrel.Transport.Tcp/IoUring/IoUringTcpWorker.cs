using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using KcpKestrel.IoUring;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Transport.Tcp.IoUring;

/// <summary>
/// One worker of the engine: a thread that owns one ring (made on it: single issuer, deferred task run),
/// with socket sharding one SO_REUSEPORT listening socket with a multishot ACCEPT armed (<see cref="IoUringTcpAccept"/>),
/// with the reactor none (connections arrive from the acceptor's ring as MSG_RING completions), one
/// provided-buffer group that every connection's multishot RECV fills, and its connections. Other threads
/// reach it only through <see cref="Post"/> (a queue and an eventfd read kept armed in the ring), so the
/// ring and the connections' I/O state need no locks.
/// </summary>
internal sealed unsafe class IoUringTcpWorker
{
    private const int KindShift = 56;
    private const ulong KindAccept = 1;
    private const ulong KindRecv = 2;
    internal const ulong KindSend = 3;
    private const ulong KindWake = 4;
    private const ulong KindBackoff = 5;
    private const ulong KindIgnore = 6;
    private const ulong KindHandoff = 7;
    private const ushort BufferGroup = 0;

    private readonly IoUringTcpConnectionListener _listener;
    private readonly IoUringTcpAccept? _accept;
    private readonly IoUringTcpTuning _tuning;
    private readonly bool _noDelay;
    private readonly bool _inlineApplication;
    private int _threadId;
    private readonly ConcurrentQueue<(IoUringTcpConnection Connection, IoUringTcpWork Work)> _work = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _unbound = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Stack<int> _freeSlots = new();
    private IoUringTcpConnection?[] _slots = new IoUringTcpConnection?[64];
    private int _slotsUsed;
    private int _eventfd = -1;
    private ulong* _wakeValue;
    private IoUringRing? _ring;
    private ProvidedBufferRing? _buffers;
    private int _wakeRequested;
    private int _wakersInside;
    private volatile bool _eventfdClosing;
    private volatile bool _unbindRequested;
    private volatile bool _stopRequested;
    private bool _unbinding;
    private bool _stopping;
    private int _live;
    private int _handoffsPending;
    private long _accepted;
    private long _noBuffers;

    // listenSocket: with socket sharding this worker's listening socket; with the reactor, null.
    public IoUringTcpWorker(IoUringTcpConnectionListener listener, int index, Socket? listenSocket, IoUringTcpTuning tuning, bool noDelay, bool inlineApplication)
    {
        _inlineApplication = inlineApplication;
        _listener = listener;
        Index = index;
        if (listenSocket is null)
        {
            _unbound.TrySetResult();
        }
        else
        {
            _accept = new IoUringTcpAccept(listener, index, listenSocket, Tag(KindAccept, 0), Tag(KindBackoff, 0), Tag(KindIgnore, 0), () => _unbound.TrySetResult());
        }

        _tuning = tuning;
        _noDelay = noDelay;
    }

    public int Index { get; }

    /// <summary>How the ring is made (SQPOLL or not); by default from the tuning, without SQPOLL.</summary>
    public IoUringRingOptions? RingOptions { get; init; }

    /// <summary>The CPU the thread pins itself to; -1 leaves it to the scheduler.</summary>
    public int Cpu { get; init; } = -1;

    /// <summary>The worker thread's kernel id (for /proc/self/task/N), once <see cref="Started"/> completed.</summary>
    public int NativeThreadId { get; private set; }

    /// <summary>The ring's fd, for the acceptor's MSG_RING; valid once <see cref="Started"/> completed.</summary>
    public int RingFd => _ring!.Fd;

    /// <summary>Connections open, plus those handed over and not yet taken: the acceptor's load figure.</summary>
    public int Load => Volatile.Read(ref _live) + Volatile.Read(ref _handoffsPending);

    /// <summary>user_data of the MSG_RING completion that hands this worker an accepted fd (in its result).</summary>
    public static ulong HandoffTag => Tag(KindHandoff, 0);

    /// <summary>Completes once the ring is up, or faults with why it could not be made.</summary>
    public Task Started => _started.Task;

    /// <summary>Completes once the listening socket is closed.</summary>
    public Task Unbound => _unbound.Task;

    /// <summary>Completes once the thread has ended and released the ring, the buffers and every fd.</summary>
    public Task Stopped => _stopped.Task;

    public long Accepted => Volatile.Read(ref _accepted);

    /// <summary>Times a receive ran out of provided buffers (ENOBUFS) and was armed again.</summary>
    public long NoBuffers => Volatile.Read(ref _noBuffers);

    public void Start()
    {
        var thread = new Thread(Run) { IsBackground = true, Name = $"uring-tcp-{Index}" };
        thread.UnsafeStart();
    }

    /// <summary>Any thread: queue work for <paramref name="connection"/> and wake the worker.</summary>
    public void Post(IoUringTcpConnection connection, IoUringTcpWork work)
    {
        _work.Enqueue((connection, work));

        // From the worker itself (app code run inline): the queue is drained before the next wait, no wake-up needed.
        if (Environment.CurrentManagedThreadId != _threadId)
        {
            Wake();
        }
    }

    /// <summary>Acceptor thread, before its MSG_RING: the worker does not end while a handed-over fd may still arrive.</summary>
    public void HandoffStarting() => Interlocked.Increment(ref _handoffsPending);

    /// <summary>Acceptor thread: the MSG_RING failed (the acceptor closes the fd); nothing more will arrive for it.</summary>
    public void HandoffFailed()
    {
        Interlocked.Decrement(ref _handoffsPending);
        Wake();
    }

    public void RequestUnbind()
    {
        _unbindRequested = true;
        Wake();
    }

    public void RequestStop()
    {
        _unbindRequested = true;
        _stopRequested = true;
        Wake();
    }

    private void Wake()
    {
        // One eventfd write per sleep: later posts see the flag and ride on the pending wake-up.
        if (Interlocked.Exchange(ref _wakeRequested, 1) != 0)
        {
            return;
        }

        // A late post (a flush completing after the worker stopped) must not write into a closed, perhaps
        // reused, fd number: the worker waits for writers inside before it closes the eventfd.
        Interlocked.Increment(ref _wakersInside);
        if (!_eventfdClosing && _eventfd >= 0)
        {
            ulong one = 1;
            _ = IoUringTcpNative.write(_eventfd, &one, sizeof(ulong));
        }

        Interlocked.Decrement(ref _wakersInside);
    }

    private void Run()
    {
        _threadId = Environment.CurrentManagedThreadId;
        NativeThreadId = IoUringTcpNative.gettid();
        if (Cpu >= 0 && IoUringTcpAffinity.PinCurrentThread(Cpu) is var pinError and not 0)
        {
            _listener.PinFailed(Index, Cpu, pinError);
        }

        try
        {
            // Blocking on purpose: io_uring answers a read of a non-blocking eventfd with EAGAIN instead of waiting.
            _eventfd = IoUringTcpNative.eventfd(0, IoUringTcpNative.EfdCloexec);
            if (_eventfd < 0)
            {
                throw new IoUringUnavailableException($"eventfd failed: errno {Marshal.GetLastPInvokeError()}");
            }

            _wakeValue = (ulong*)NativeMemory.AllocZeroed(sizeof(ulong));
            _ring = IoUringRing.Create(RingOptions ?? _tuning.RingOptions(sqPoll: false, sqPollIdleMilliseconds: 0));
            _buffers = _tuning.RegisterBuffers(_ring, BufferGroup);
            ArmWake();
            _accept?.Start(_ring);
            _ = _ring.Submit();
        }
        catch (Exception e)
        {
            Release();
            _unbound.TrySetResult();
            _stopped.TrySetResult();
            _started.TrySetException(e);
            return;
        }

        _started.TrySetResult();
        try
        {
            Loop();
        }
        catch (Exception e)
        {
            _listener.WorkerFailed(Index, e);
        }
        finally
        {
            Release();
            _unbound.TrySetResult();
            _stopped.TrySetResult();
        }
    }

    private void Loop()
    {
        var ring = _ring!;
        while (true)
        {
            Drain();
            if (_stopping && _live == 0 && (_accept?.Closed ?? true) && Volatile.Read(ref _handoffsPending) == 0)
            {
                return;
            }

            var r = ring.SubmitAndWait(1, -1);
            if (r < 0 && r != -IoUringConstants.EINTR && r != -IoUringConstants.EAGAIN && r != -IoUringConstants.EBUSY && r != -IoUringConstants.ETIME)
            {
                throw new InvalidOperationException($"io_uring_enter failed: errno {-r}");
            }

            while (ring.TryReadCqe(out var cqe))
            {
                Complete(in cqe);
            }
        }
    }

    private void Drain()
    {
        if (_unbindRequested && !_unbinding)
        {
            _unbinding = true;
            _accept?.Unbind();
        }

        if (_stopRequested && !_stopping)
        {
            _stopping = true;
            for (var i = 0; i < _slotsUsed; i++)
            {
                _slots[i]?.Abort(new ConnectionAbortedException("The io_uring TCP listener is stopping."));
            }
        }

        while (_work.TryDequeue(out var item))
        {
            var c = item.Connection;
            if (c.Finished)
            {
                continue;
            }

            switch (item.Work)
            {
                case IoUringTcpWork.OutputReadable:
                    IoUringTcpOutput.OnReadable(_ring!, c);
                    break;
                case IoUringTcpWork.InputFlushed:
                    OnInputFlushed(c);
                    break;
                case IoUringTcpWork.Abort:
                    IoUringTcpOutput.Abort(c);
                    break;
            }

            TryFinish(c);
        }
    }

    private void Complete(in IoUringCqe cqe)
    {
        var kind = cqe.UserData >> KindShift;
        var slot = (int)(uint)cqe.UserData;
        switch (kind)
        {
            case KindAccept:
                if (_accept!.OnAccept(in cqe) is var fd and >= 0)
                {
                    Adopt(fd);
                }

                break;
            case KindHandoff:
                OnHandedOff(cqe.Res);
                break;
            case KindRecv:
                OnRecv(_slots[slot]!, in cqe);
                break;
            case KindSend:
                IoUringTcpOutput.OnSent(_ring!, _slots[slot]!, cqe.Res);
                TryFinish(_slots[slot]!);
                break;
            case KindWake:
                Volatile.Write(ref _wakeRequested, 0);
                ArmWake();
                break;
            case KindBackoff:
                _accept!.OnBackoffElapsed();
                break;
        }
    }

    // ---- accept ----
    /// <summary>A connection the reactor's acceptor accepted (its slot under the limit taken) and passed here.</summary>
    private void OnHandedOff(int fd)
    {
        if (_stopping)
        {
            // Past the abort sweep: it would never be aborted, so it is not served.
            IoUringTcpNative.CloseAbortive(fd);
            _listener.Release();
        }
        else
        {
            Adopt(fd);
        }

        // After Adopt counted it live, so the acceptor's load figure never dips below the truth.
        Interlocked.Decrement(ref _handoffsPending);
    }

    private void Adopt(int fd)
    {
        if (_noDelay)
        {
            _ = IoUringTcpNative.SetInt(fd, TcpSocketOptionNames.IpProtoTcp, 1 /* TCP_NODELAY */, 1);
        }

        var slot = TakeSlot();
        var c = new IoUringTcpConnection(this, fd, slot, IoUringTcpNative.LocalEndPoint(fd), IoUringTcpNative.RemoteEndPoint(fd), _inlineApplication);
        _slots[slot] = c;
        _live++;
        Volatile.Write(ref _accepted, _accepted + 1);
        ArmRecv(c);
        IoUringTcpOutput.Read(_ring!, c);
        _listener.Enqueue(c);
    }

    // ---- receive ----
    private void ArmRecv(IoUringTcpConnection c)
    {
        _ring!.GetSqe()->PrepareRecvMultishot(c.Fd, BufferGroup, Tag(KindRecv, c.Slot));
        c.RecvArmed = true;
    }

    private void OnRecv(IoUringTcpConnection c, in IoUringCqe cqe)
    {
        var res = cqe.Res;
        if (cqe.HasBuffer)
        {
            _buffers!.OnTaken();
            if (res > 0 && !c.InputDone)
            {
                CopyIn(c, _buffers.Buffer(cqe.BufferId, res));
            }

            _buffers.Recycle(cqe.BufferId);
        }

        if (!cqe.HasMore)
        {
            c.RecvArmed = false;
        }

        if (res > 0)
        {
            if (!c.InputDone)
            {
                FlushInput(c);
            }
        }
        else if (res == 0)
        {
            // FIN, or the shutdown an abort made.
            c.CompleteInput(c.AbortReason);
        }
        else if (res == -IoUringConstants.ENOBUFS)
        {
            // Every buffer was in use: the multishot receive ended; armed again below, the data waits in the socket.
            Volatile.Write(ref _noBuffers, _noBuffers + 1);
        }
        else if (res != -IoUringConstants.ECANCELED)
        {
            c.CompleteInput(c.AbortReason ?? (res == -IoUringTcpNative.ECONNRESET
                ? new ConnectionResetException("The peer reset the connection.", new SocketException((int)SocketError.ConnectionReset))
                : new ConnectionAbortedException($"Receive failed: errno {-res}.")));
        }

        if (!c.RecvArmed && !c.InputDone && !c.FlushPending)
        {
            ArmRecv(c);
        }

        TryFinish(c);
    }

    private static void CopyIn(IoUringTcpConnection c, ReadOnlySpan<byte> source)
    {
        var writer = c.InputWriter;
        while (!source.IsEmpty)
        {
            var target = writer.GetSpan();
            var n = Math.Min(target.Length, source.Length);
            source[..n].CopyTo(target);
            writer.Advance(n);
            source = source[n..];
        }
    }

    // The pending flush is kept and its result taken once its continuation has posted back (CA2012 cannot see that).
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2012", Justification = "Consumed once, after completion.")]
    private void FlushInput(IoUringTcpConnection c)
    {
        if (c.FlushPending)
        {
            c.Unflushed = true;
            return;
        }

        var flush = c.InputWriter.FlushAsync();
        if (flush.IsCompleted)
        {
            // A completed result means the app stopped reading: what comes next is read and dropped.
            _ = flush.GetAwaiter().GetResult();
            return;
        }

        // Over the pause threshold: stop receiving until the app has read enough (flow control reaches the peer).
        c.PendingFlush = flush;
        c.FlushPending = true;
        flush.GetAwaiter().UnsafeOnCompleted(c.OnFlushed);
        if (c.RecvArmed)
        {
            Cancel(KindRecv, c.Slot);
        }
    }

    private void OnInputFlushed(IoUringTcpConnection c)
    {
        if (!c.FlushPending)
        {
            return;
        }

        c.FlushPending = false;
        if (c.InputDone)
        {
            return;
        }

        // The stored flush has completed: its continuation is what posted this.
#pragma warning disable CA2012
        _ = c.PendingFlush.GetAwaiter().GetResult();
#pragma warning restore CA2012
        c.PendingFlush = default;
        if (c.Unflushed)
        {
            c.Unflushed = false;
            FlushInput(c);
        }

        if (!c.FlushPending && !c.RecvArmed)
        {
            ArmRecv(c);
        }
    }

    // ---- lifetime ----
    private void TryFinish(IoUringTcpConnection c)
    {
        if (c.Finished || !c.Idle || c.ReadPending)
        {
            return;
        }

        _ = IoUringTcpNative.close(c.Fd);
        _slots[c.Slot] = null;
        _freeSlots.Push(c.Slot);
        _live--;
        _listener.Release();
        c.OnFinished();
    }

    private int TakeSlot()
    {
        if (_freeSlots.TryPop(out var slot))
        {
            return slot;
        }

        if (_slotsUsed == _slots.Length)
        {
            Array.Resize(ref _slots, _slots.Length * 2);
        }

        return _slotsUsed++;
    }

    private void ArmWake() => _ring!.GetSqe()->PrepareRead(_eventfd, _wakeValue, sizeof(ulong), 0, Tag(KindWake, 0));

    private void Cancel(ulong kind, int slot)
    {
        var sqe = _ring!.GetSqe();
        sqe->PrepareCancel(Tag(kind, slot), 0, Tag(KindIgnore, 0));
        sqe->Flags |= IoUringConstants.SqeCqeSkipSuccess;
    }

    internal static ulong Tag(ulong kind, int slot) => (kind << KindShift) | (uint)slot;

    /// <summary>Worker thread, at exit: closing the ring cancels whatever is left; then nothing can write into the buffers.</summary>
    private void Release()
    {
        for (var i = 0; i < _slotsUsed; i++)
        {
            if (_slots[i] is { } c)
            {
                _ = IoUringTcpNative.close(c.Fd);
                _listener.Release();
                c.OnFinished();
                _slots[i] = null;
            }
        }

        _listener.OnWorkerReleased(_ring, _buffers);
        _ring?.Dispose();
        _accept?.Release();
        _buffers?.Free();
        _eventfdClosing = true;
        while (Volatile.Read(ref _wakersInside) != 0)
        {
            Thread.SpinWait(1);
        }

        if (_eventfd >= 0)
        {
            _ = IoUringTcpNative.close(_eventfd);
            _eventfd = -1;
        }

        NativeMemory.Free(_wakeValue);
        _wakeValue = null;
    }
}
